import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

@Suite("Store lock", .serialized)
struct StoreLockTests {
  /// Starts a helper that holds the store's write lock and waits until it has it.
  static func lockedByHelper(_ directory: String) throws -> CrashHelperProcess {
    let helper = try CrashHelperProcess.start(["hold-lock", directory])
    let line = helper.readLine()
    guard line == "locked \(helper.pid)" else {
      helper.kill()
      throw CheckpointError(
        .io, "the lock helper printed '\(line ?? "nothing")' instead of 'locked \(helper.pid)'")
    }
    return helper
  }

  @Test("second writer is told the owner")
  func secondWriterNamesOwner() async throws {
    try await withTemporaryDirectory { directory in
      let helper = try Self.lockedByHelper(directory)
      defer { helper.kill() }

      let error = await #expect(throws: CheckpointError.self) {
        _ = try await CheckpointManager(directory: directory)
      }
      #expect(error?.code == .storeLocked)
      let host = ProcessInfo.processInfo.hostName
      #expect(
        error?.message.contains("pid \(helper.pid) on host \(host)") == true,
        "\(error?.message ?? "")")
      #expect(error?.message.contains("stop that process") == true)
    }
  }

  @Test("lock of a killed writer is taken over with an event")
  func takeoverAfterKill() async throws {
    try await withTemporaryDirectory { directory in
      let helper = try Self.lockedByHelper(directory)
      #expect(helper.kill())
      _ = helper.readAll()

      let events = EventRecorder()
      let logs = LogRecorder()
      let manager = try await CheckpointManager(
        directory: directory, logger: logs.logger, eventHandler: events.handler)
      try await manager.close()

      let takeovers = events.all.compactMap { event -> (Int32, String)? in
        if case .lockTakenOver(let pid, let host) = event { return (pid, host) }
        return nil
      }
      #expect(takeovers.count == 1)
      #expect(takeovers.first?.0 == helper.pid)
      #expect(takeovers.first?.1 == ProcessInfo.processInfo.hostName)
      let warning = try #require(logs.all.first { $0.level == .warning })
      #expect(warning.message == "took over a store lock left by a process that is gone")
      #expect(warning.metadata["lock.pid"] == "\(helper.pid)")

      let quiet = EventRecorder()
      let next = try await CheckpointManager(directory: directory, eventHandler: quiet.handler)
      try await next.close()
      #expect(!quiet.all.contains { if case .lockTakenOver = $0 { true } else { false } })
    }
  }

  @Test("gc is refused while a writer holds the lock")
  func gcRefusedWhileLocked() async throws {
    try await withTemporaryDirectory { directory in
      let seed = try await CheckpointManager(directory: directory)
      for step in Int64(1)...3 {
        try await seed.waitForCommit(
          of: seed.save(step: step, state: SampleStates.state(step: step)))
      }
      try await seed.close()
      let helper = try Self.lockedByHelper(directory)
      let store = CheckpointStore(directory: directory)

      let error = await #expect(throws: CheckpointError.self) {
        _ = try await store.applyRetention(RetentionPolicy(keepLast: 1))
      }
      #expect(error?.code == .storeLocked)
      let dryRun = try await store.applyRetention(RetentionPolicy(keepLast: 1), dryRun: true)
      #expect(dryRun.plan.deleted.map(\.step) == [1, 2])
      #expect(try await store.committedCheckpoints().map(\.step) == [1, 2, 3])

      #expect(helper.kill())
      _ = helper.readAll()
      let report = try await store.applyRetention(RetentionPolicy(keepLast: 1))
      #expect(report.lockTakenOverFrom?.pid == helper.pid)
      #expect(report.deletedSteps == [1, 2])
      #expect(try await store.committedCheckpoints().map(\.step) == [3])
    }
  }
}
