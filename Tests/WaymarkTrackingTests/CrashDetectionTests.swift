import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Crash detection")
struct CrashDetectionTests {
  private let now = 1_000_000.0

  private func rule(alive: Set<Int32> = [42]) -> LivenessRule {
    LivenessRule(staleAfterSeconds: 30, now: now, currentHost: "trainer-1") { alive.contains($0) }
  }

  private func heartbeat(pid: Int32 = 42, host: String = "trainer-1", age: Double) -> Heartbeat {
    Heartbeat(runID: "r", pid: pid, host: host, wallTime: now - age)
  }

  @Test("fresh heartbeat of a live process is running")
  func freshHeartbeat() {
    #expect(
      rule().reportedStatus(
        stored: .running, startWallTime: now - 100, heartbeat: heartbeat(age: 3)) == .running)
  }

  @Test("stale heartbeat is crashed")
  func staleHeartbeat() {
    #expect(
      rule().reportedStatus(
        stored: .running, startWallTime: now - 100, heartbeat: heartbeat(age: 31)) == .crashed)
    #expect(
      rule().reportedStatus(
        stored: .running, startWallTime: now - 100, heartbeat: heartbeat(age: 29)) == .running)
  }

  @Test("dead process on this host is crashed")
  func deadProcess() {
    #expect(
      rule().reportedStatus(
        stored: .running, startWallTime: now, heartbeat: heartbeat(pid: 7, age: 1)) == .crashed)
  }

  @Test("process on another host is judged by heartbeat only")
  func otherHost() {
    let beat = heartbeat(pid: 7, host: "trainer-2", age: 1)
    #expect(
      rule().reportedStatus(stored: .running, startWallTime: now, heartbeat: beat) == .running)
  }

  @Test("missing heartbeat is crashed once the run is older than the threshold")
  func missingHeartbeat() {
    #expect(
      rule().reportedStatus(stored: .running, startWallTime: now - 5, heartbeat: nil) == .running)
    #expect(
      rule().reportedStatus(stored: .running, startWallTime: now - 60, heartbeat: nil) == .crashed)
  }

  @Test(
    "finished statuses are reported as stored",
    arguments: [RunStatus.completed, .failed, .interrupted])
  func finishedStatuses(status: RunStatus) {
    #expect(
      rule().reportedStatus(stored: status, startWallTime: 0, heartbeat: nil)
        == ReportedRunStatus(status))
  }

  @Test("run with stale heartbeat on disk is listed as crashed")
  func staleHeartbeatOnDisk() async throws {
    try await withTemporaryDirectory { root in
      let runs = "\(root)/runs"
      let run = try await Run.start(experiment: "e", in: runs, options: testOptions())
      try run.log("loss", 1, step: 7)
      _ = try await copyAsCrashed(run, to: "\(runs)/e/crashed-copy")
      try await run.finish()
      let copy = "\(runs)/e/crashed-copy"
      try writeHeartbeat(
        in: copy, pid: getpid(), host: ProcessIdentity.hostName,
        wallTime: Date().timeIntervalSince1970 - 120)

      let details = try RunReader.details(ofRunAt: copy)
      #expect(details.status == .crashed)
      #expect(details.lastStep == 7)
      let list = try RunReader.listRuns(in: runs)
      #expect(
        list.runs.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.completed, .crashed])
    }
  }

  @Test("run whose process is gone is listed as crashed")
  func deadProcessOnDisk() async throws {
    try await withTemporaryDirectory { root in
      // A process this test creates and reaps, so its id is known to be free.
      let child = Process()
      child.executableURL = URL(fileURLWithPath: "/bin/true")
      try child.run()
      child.waitUntilExit()
      let deadPID = child.processIdentifier
      #expect(kill(deadPID, 0) == -1)
      #expect(errno == ESRCH)

      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let copy = try await copyAsCrashed(run, to: "\(root)/e/copy")
      try await run.finish()
      try writeHeartbeat(
        in: copy, pid: deadPID, host: ProcessIdentity.hostName,
        wallTime: Date().timeIntervalSince1970)

      #expect(try RunReader.details(ofRunAt: copy).status == .crashed)
      // The same heartbeat from another host cannot be checked by pid, so it is running.
      try writeHeartbeat(
        in: copy, pid: deadPID, host: "some-other-host", wallTime: Date().timeIntervalSince1970)
      #expect(try RunReader.details(ofRunAt: copy).status == .running)
    }
  }

  @Test("crashed run can be resumed")
  func crashedRunResumes() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let copy = try await copyAsCrashed(run, to: "\(root)/e/copy")
      try await run.finish()
      try writeHeartbeat(
        in: copy, pid: 1, host: ProcessIdentity.hostName,
        wallTime: Date().timeIntervalSince1970 - 3600)

      let resumed = try await Run.resume(at: copy, options: testOptions())
      #expect(await resumed.status == .running)
      try await resumed.finish()
      let record = try RunFiles.readRecord(layout: RunLayout(directory: copy))
      #expect(record.resumes.first?.previousStatus == .crashed)
      #expect(record.status == .completed)
    }
  }
}
