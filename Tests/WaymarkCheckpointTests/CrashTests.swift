import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

/// Kills a helper that saves in a loop with SIGKILL at random moments, and checks the store
/// after every kill.
///
/// The suite runs 100 kills. `WAYMARK_SOAK_KILLS` sets another count and
/// `WAYMARK_CRASH_SEED` another seed, so the soak run is
/// `WAYMARK_SOAK_KILLS=1000 swift test --filter CrashTests`.
@Suite("Crash", .serialized)
struct CrashTests {
  static let elementCount = 16_384
  static let chunkByteCount = 8192

  struct Tally {
    var kills = 0
    var killsWithoutCommit = 0
    var commits = 0
    var takeovers = 0
    var leftoversRemoved = 0
  }

  @Test("SIGKILL at random moments never loses a commit", .timeLimit(.minutes(60)))
  func killLoop() async throws {
    let environment = ProcessInfo.processInfo.environment
    let kills = environment["WAYMARK_SOAK_KILLS"].flatMap { Int($0) } ?? 100
    let seed = environment["WAYMARK_CRASH_SEED"].flatMap { UInt64($0) } ?? 0x5EED_C0DE
    var random = SplitMix64(state: seed)
    let start = Date()

    let tally = try await withTemporaryDirectory { directory -> Tally in
      let store = directory + "/store"
      var tally = Tally()
      var newest: Int64?
      for round in 0..<kills {
        let helper = try CrashHelperProcess.start([
          "save-loop", store, String(Self.elementCount), String(Self.chunkByteCount),
        ])
        // 2 to 250 ms: early kills land while the helper starts, opens the store and removes
        // leftovers, later ones in writes, commits and retention deletions.
        try await Task.sleep(nanoseconds: 2_000_000 + random.next() % 248_000_000)
        let killedBySignal = helper.kill()
        let output = helper.readAll()
        try #require(killedBySignal, "round \(round): the helper exited before the kill: \(output)")
        let committed = output.split(separator: "\n").compactMap { line -> Int64? in
          line.hasPrefix("committed ") ? Int64(line.dropFirst("committed ".count)) : nil
        }
        tally.kills += 1
        tally.commits += committed.count
        if committed.isEmpty { tally.killsWithoutCommit += 1 }

        let mustSurvive = committed.last ?? newest
        newest = try await Self.checkAfterKill(
          store, mustSurvive: mustSurvive, helperPID: helper.pid, round: round, tally: &tally)
      }
      return tally
    }

    let seconds = Date().timeIntervalSince(start)
    print(
      "crash test: \(tally.kills) kills in \(String(format: "%.1f", seconds)) s, seed \(seed), \(tally.commits) commits reported, \(tally.takeovers) lock takeovers, \(tally.leftoversRemoved) opens removed leftovers, \(tally.killsWithoutCommit) kills before the helper reported a commit"
    )
    #expect(tally.kills == kills)
    #expect(tally.commits > 0, "the helper never committed between kills")
    #expect(tally.takeovers > 0)
  }

  /// Reopens the store after a kill and checks it; returns the step resume loads.
  ///
  /// `mustSurvive` is the newest step known to be committed. The helper prints a step only
  /// after its commit is durable and saves one step at a time, so resume must load that
  /// step or the next one, whose commit may have finished before the print.
  static func checkAfterKill(
    _ store: String, mustSurvive: Int64?, helperPID: pid_t, round: Int, tally: inout Tally
  ) async throws -> Int64? {
    let events = EventRecorder()
    let manager = try await CheckpointManager(directory: store, eventHandler: events.handler)
    #expect(try leftoverNames(in: store).isEmpty, "round \(round)")
    for event in events.all {
      switch event {
      case .lockTakenOver(let pid, let host):
        tally.takeovers += 1
        #expect(pid == helperPID, "round \(round)")
        #expect(host == ProcessInfo.processInfo.hostName, "round \(round)")
      case .leftoversRemoved:
        tally.leftoversRemoved += 1
      default:
        break
      }
    }

    let report = try await CheckpointVerifier().verify(path: store)
    #expect(report.ok, "round \(round): \(report.checkpoints.filter { !$0.isIntact })")
    let latest = try await manager.loadLatest()
    try await manager.close()

    if let mustSurvive {
      let step = try #require(latest?.step, "round \(round): step \(mustSurvive) was lost")
      #expect(
        step == mustSurvive || step == mustSurvive + 1,
        "round \(round): resumed step \(step), committed \(mustSurvive)")
    } else {
      #expect(latest == nil || latest?.step == 1, "round \(round)")
    }
    guard let latest else { return nil }
    let (state, metrics) = try crashTestState(step: latest.step, elementCount: elementCount)
    #expect(
      latest.state == state, "round \(round): step \(latest.step) differs from what was saved")
    let loss = try #require(metrics["loss"])
    let loadedLoss = try #require(latest.metrics["loss"])
    #expect(loadedLoss == loss || (loadedLoss.isNaN && loss.isNaN), "round \(round)")
    #expect(
      !events.all.contains { if case .checkpointSkipped = $0 { true } else { false } },
      "round \(round): resume passed over a damaged checkpoint")
    return latest.step
  }
}
