import Foundation
import Synchronization
import Testing
import WaymarkCheckpoint
import WaymarkCore

@Suite("Retention on a store")
struct RetentionStoreTests {
  /// Saves `steps` with a manager using `retention`, each with the loss in `losses`.
  static func saveSteps(
    _ steps: ClosedRange<Int64>, in directory: String, retention: RetentionPolicy = .keepAll,
    losses: [Int64: Double] = [:], fileSystem: any FileSystem = PosixFileSystem(),
    events: EventRecorder = EventRecorder()
  ) async throws {
    var options = CheckpointManager.Options()
    options.retention = retention
    options.fileSystem = fileSystem
    let manager = try await CheckpointManager(
      directory: directory, options: options, eventHandler: events.handler)
    for step in steps {
      let metrics = losses[step].map { ["loss": $0] } ?? [:]
      try await manager.waitForCommit(
        of: manager.save(step: step, state: SampleStates.state(step: step), metrics: metrics))
    }
    try await manager.close()
  }

  static func steps(in directory: String) async throws -> [Int64] {
    try await CheckpointStore(directory: directory).committedCheckpoints().map(\.step)
  }

  @Test("manager applies keep last with keep every after each commit")
  func keepLastWithKeepEvery() async throws {
    try await withTemporaryDirectory { directory in
      let events = EventRecorder()
      try await Self.saveSteps(
        1...7, in: directory, retention: RetentionPolicy(keepLast: 2, keepEvery: 3), events: events)
      #expect(try await Self.steps(in: directory) == [3, 6, 7])
      #expect(events.deletedSteps == [1, 2, 4, 5])
      #expect(try leftoverNames(in: directory).isEmpty)
    }
  }

  @Test("manager keeps the best and the newest")
  func keepBest() async throws {
    try await withTemporaryDirectory { directory in
      let policy = RetentionPolicy(
        keepLast: 1, keepBest: 1, bestBy: MetricObjective(metric: "loss"))
      try await Self.saveSteps(
        1...5, in: directory, retention: policy, losses: [1: 3, 2: 1, 3: 2, 4: .nan, 5: 4])
      #expect(try await Self.steps(in: directory) == [2, 5])
    }
  }

  @Test("manager reads each manifest once for ranking")
  func manifestsReadOnce() async throws {
    try await withTemporaryDirectory { directory in
      let fileSystem = ManifestOpenCounter()
      let policy = RetentionPolicy(
        keepLast: 1, keepBest: 3, bestBy: MetricObjective(metric: "loss"))
      let losses: [Int64: Double] = [1: 5, 2: 4, 3: 3, 4: 2, 5: 1, 6: 6, 7: 7, 8: 8]
      try await Self.saveSteps(
        1...8, in: directory, retention: policy, losses: losses, fileSystem: fileSystem)

      #expect(try await Self.steps(in: directory) == [3, 4, 5, 8])
      // Each of the 8 checkpoints is summarized once, after its own commit; without the
      // cache the passes would read 1 + 2 + 3 + 4 + 4 + 4 + 5 + 5 = 28 manifests.
      #expect(fileSystem.manifestOpenCount == 8)
    }
  }

  @Test("deletion starts after the commit is durable and renames before removing")
  func deletionOrder() async throws {
    try await withTemporaryDirectory { directory in
      let fileSystem = FaultInjectingFileSystem()
      try await Self.saveSteps(
        1...2, in: directory, retention: RetentionPolicy(keepLast: 1), fileSystem: fileSystem)
      let log = fileSystem.operationLog
      let commit = try #require(
        log.firstIndex { $0.operation == .rename && $0.path.hasSuffix("/step-000000000002") })
      let commitFsync = try #require(
        log[commit...].firstIndex { $0.operation == .synchronizeDirectory })
      let trash = try #require(
        log.firstIndex { $0.operation == .rename && $0.path.contains("/.trash-step-000000000001-") }
      )
      let trashFsync = try #require(
        log[trash...].firstIndex { $0.operation == .synchronizeDirectory })
      let firstRemoval = try #require(log.firstIndex { $0.operation == .removeFile })

      #expect(log[commitFsync].path == directory)
      #expect(log[trashFsync].path == directory)
      #expect(commitFsync < trash)
      #expect(trashFsync < firstRemoval)
      #expect(log[firstRemoval].path.contains("/.trash-step-000000000001-"))
      #expect(log.last?.operation == .removeDirectory)
    }
  }

  @Test("half-deleted checkpoint is never taken for a valid one")
  func halfDeleted() async throws {
    try await withTemporaryDirectory { directory in
      try await Self.saveSteps(1...2, in: directory)
      // A crash after the rename to trash and part of the removal: step 3's data is gone.
      let trash = directory + "/.trash-step-000000000003-5eed"
      try FileManager.default.createDirectory(atPath: trash, withIntermediateDirectories: false)
      try FileManager.default.copyItem(
        atPath: directory + "/step-000000000002/manifest.json", toPath: trash + "/manifest.json")

      let store = CheckpointStore(directory: directory)
      #expect(try await store.committedCheckpoints().map(\.step) == [1, 2])
      #expect(try await store.newestValid(checkingData: true).found?.entry.step == 2)
      let events = EventRecorder()
      let manager = try await CheckpointManager(directory: directory, eventHandler: events.handler)
      try await manager.close()
      #expect(!FileManager.default.fileExists(atPath: trash))
      let removed = events.all.compactMap { event -> [String]? in
        if case .leftoversRemoved(let names) = event { return names }
        return nil
      }
      #expect(removed == [[".trash-step-000000000003-5eed"]])
    }
  }

  @Test("gc dry run plans without deleting")
  func gcDryRun() async throws {
    try await withTemporaryDirectory { directory in
      try await Self.saveSteps(
        1...5, in: directory, losses: [1: 0.5, 2: 0.1, 3: 0.3, 4: 0.2, 5: 0.4])
      let policy = RetentionPolicy(
        keepLast: 1, keepBest: 2, bestBy: MetricObjective(metric: "loss"))
      let store = CheckpointStore(directory: directory)

      let dryRun = try await store.applyRetention(policy, dryRun: true)
      #expect(dryRun.isDryRun)
      #expect(dryRun.plan.kept.map(\.step) == [2, 4, 5])
      #expect(dryRun.plan.deleted.map(\.step) == [1, 3])
      #expect(dryRun.plan.bestStep == 2)
      #expect(dryRun.deletedSteps.isEmpty)
      #expect(try await Self.steps(in: directory) == [1, 2, 3, 4, 5])

      let logs = LogRecorder()
      let report = try await store.applyRetention(policy, logger: logs.logger)
      #expect(!report.isDryRun)
      #expect(report.deletedSteps == [1, 3])
      #expect(report.plan == dryRun.plan)
      #expect(try await Self.steps(in: directory) == [2, 4, 5])
      #expect(
        logs.all.filter { $0.message == "deleted a checkpoint" }.map {
          $0.metadata["checkpoint.step"]
        } == ["1", "3"])
    }
  }

  @Test("gc removes leftovers and rejects bad input")
  func gcLeftoversAndErrors() async throws {
    try await withTemporaryDirectory { directory in
      try await Self.saveSteps(1...2, in: directory)
      try FileManager.default.createDirectory(
        atPath: directory + "/.tmp-step-000000000003-aa", withIntermediateDirectories: false)
      let store = CheckpointStore(directory: directory)
      let report = try await store.applyRetention(RetentionPolicy(keepLast: 5))
      #expect(report.leftoversRemoved == [".tmp-step-000000000003-aa"])
      #expect(report.deletedSteps.isEmpty)

      let invalid = await #expect(throws: CheckpointError.self) {
        _ = try await store.applyRetention(RetentionPolicy(keepBest: 2))
      }
      #expect(invalid?.code == .invalidArgument)
      let missing = await #expect(throws: CheckpointError.self) {
        _ = try await CheckpointStore(directory: directory + "/absent").applyRetention(
          RetentionPolicy(keepLast: 1))
      }
      #expect(missing?.code == .notFound)
      #expect(!FileManager.default.fileExists(atPath: directory + "/absent"))
    }
  }

  @Test("best by metric skips NaN, damage and ties to the earlier step")
  func bestLookup() async throws {
    try await withTemporaryDirectory { directory in
      try await Self.saveSteps(
        1...6, in: directory, losses: [1: 0.4, 2: .nan, 3: 0.2, 4: 0.2, 5: -.infinity, 6: 0.1])
      let store = CheckpointStore(directory: directory)
      #expect(try await store.best(metric: "loss")?.entry.step == 6)
      #expect(try await store.best(metric: "loss", mode: .max)?.entry.step == 1)
      #expect(try await store.best(metric: "accuracy") == nil)

      try flipByte(
        in: directory + "/step-000000000006/manifest.json", at: ManifestFile.bodyOffset + 5)
      let best = try #require(try await store.best(metric: "loss"))
      #expect(best.entry.step == 3)
      #expect(best.value == 0.2)
      #expect(best.summary.rawByteCount == Int64(try SampleStates.state(step: 3).byteCount))
      let loaded = try #require(try await store.loadBest(by: MetricObjective(metric: "loss")))
      #expect(loaded.step == 3)
      #expect(loaded.state == (try SampleStates.state(step: 3)))

      let summaries = try await store.summaries()
      #expect(summaries.map(\.step) == [1, 2, 3, 4, 5, 6])
      #expect(summaries.last?.problem?.contains("checksum mismatch") == true)
      #expect(summaries.first?.storedByteCount ?? 0 > 0)
    }
  }
}

/// Counts the manifests opened for reading.
private final class ManifestOpenCounter: ForwardingFileSystem {
  let base: any FileSystem = PosixFileSystem()
  private let opened = Mutex(0)

  var manifestOpenCount: Int { opened.withLock { $0 } }

  func openForReading(at path: String) throws -> FileDescriptor {
    if path.hasSuffix("/" + ManifestFile.fileName) { opened.withLock { $0 += 1 } }
    return try base.openForReading(at: path)
  }
}
