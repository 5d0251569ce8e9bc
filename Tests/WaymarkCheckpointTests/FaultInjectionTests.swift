import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

/// How the sweep fails its chosen operation.
struct FaultSweep: Sendable, CustomTestStringConvertible {
  var errno: Int32
  var persists: Bool

  var testDescription: String {
    (errno == ENOSPC ? "ENOSPC" : "EIO") + (persists ? ", every later call too" : ", once")
  }
}

@Suite("Fault injection")
struct FaultInjectionTests {
  static func openManager(
    _ directory: String, fileSystem: any FileSystem, events: EventRecorder, logs: LogRecorder
  ) async throws -> CheckpointManager {
    var options = CheckpointManager.Options()
    options.fileSystem = fileSystem
    options.chunkByteCount = 4096
    options.retention = RetentionPolicy(keepLast: 2)
    return try await CheckpointManager(
      directory: directory, options: options, logger: logs.logger, eventHandler: events.handler)
  }

  /// Commits steps 1 to 3; retention leaves steps 2 and 3.
  static func commitFirstSteps(_ manager: CheckpointManager) async throws {
    for step in Int64(1)...3 {
      let ticket = try await manager.save(
        step: step, state: SampleStates.state(step: step), metrics: SampleStates.metrics(step: step)
      )
      try await manager.waitForCommit(of: ticket)
    }
  }

  /// Runs the cycle once without a fault and returns its counted operations: saving step 4,
  /// then retention deleting step 2.
  static func operationsOfOneCycle() async throws -> [FileOperationRecord] {
    try await withTemporaryDirectory { directory in
      let fileSystem = FaultInjectingFileSystem()
      let manager = try await openManager(
        directory, fileSystem: fileSystem, events: EventRecorder(), logs: LogRecorder())
      try await commitFirstSteps(manager)
      let before = fileSystem.operationCount
      try await manager.waitForCommit(of: manager.save(step: 4, state: SampleStates.state(step: 4)))
      try await manager.close()
      return Array(fileSystem.operationLog.dropFirst(before))
    }
  }

  /// Position in `cycle` of the store fsync that makes step 4's rename durable.
  static func commitFsyncIndex(in cycle: [FileOperationRecord]) throws -> Int {
    let rename = try #require(
      cycle.firstIndex { $0.operation == .rename && $0.path.hasSuffix("/step-000000000004") })
    return try #require(cycle[rename...].firstIndex { $0.operation == .synchronizeDirectory })
  }

  @Test("cycle covers every kind of operation")
  func cycleCoverage() async throws {
    let cycle = try await Self.operationsOfOneCycle()
    let kinds = Set(cycle.map(\.operation))
    #expect(kinds == Set(FileOperation.allCases), "cycle: \(cycle)")
  }

  @Test(
    "fault at each operation of save and retention",
    arguments: [FaultSweep(errno: EIO, persists: false), FaultSweep(errno: ENOSPC, persists: true)])
  func sweep(fault: FaultSweep) async throws {
    let cycle = try await Self.operationsOfOneCycle()
    let commitFsync = try Self.commitFsyncIndex(in: cycle)

    for k in 1...cycle.count {
      try await withTemporaryDirectory { directory in
        let fileSystem = FaultInjectingFileSystem()
        let events = EventRecorder()
        let logs = LogRecorder()
        let manager = try await Self.openManager(
          directory, fileSystem: fileSystem, events: events, logs: logs)
        try await Self.commitFirstSteps(manager)

        fileSystem.arm(.init(operationNumber: k, errno: fault.errno, persists: fault.persists))
        let ticket = try await manager.save(step: 4, state: SampleStates.state(step: 4))
        let result = await outcome { try await manager.waitForCommit(of: ticket) }
        try await manager.close()

        let failed = try #require(fileSystem.injectedFailures.first, "k=\(k): no fault fired")
        #expect(failed.operation == cycle[k - 1].operation, "k=\(k)")
        let isRetentionFault = k - 1 > commitFsync
        switch result {
        case .success:
          #expect(isRetentionFault, "k=\(k): \(failed) failed but the save reported success")
          #expect(events.retentionFailures.count == 1, "k=\(k)")
          #expect(hasFileSystemError(events.retentionFailures.first, errno: fault.errno), "k=\(k)")
          #expect(logs.errors.map(\.message) == ["retention failed"], "k=\(k)")
        case .failure(let error):
          #expect(!isRetentionFault, "k=\(k): retention fault \(failed) failed the save")
          #expect(hasFileSystemError(error, errno: fault.errno), "k=\(k): \(error)")
          #expect(events.saveFailures.count == 1, "k=\(k)")
          #expect(hasFileSystemError(events.saveFailures.first, errno: fault.errno), "k=\(k)")
          #expect(logs.errors.map(\.message) == ["a checkpoint save failed"], "k=\(k)")
        }

        let resumed = try await reopenAndCheck(directory, expected: SampleStates.state)
        let committedBeforeFault: Int64 = isRetentionFault ? 4 : 3
        if k - 1 == commitFsync, fault.persists {
          // The rename of step 4 ran and the fsync after it failed. The writer moves the
          // checkpoint out of sight, but with a fault that persists that rename fails too,
          // so the complete, verified step 4 may stay visible.
          #expect(resumed == committedBeforeFault || resumed == 4, "k=\(k)")
        } else {
          #expect(resumed == committedBeforeFault, "k=\(k): \(failed)")
        }
        let steps = try await CheckpointStore(directory: directory).committedCheckpoints().map(
          \.step)
        #expect(steps.contains(3), "k=\(k): step 3 must survive, found \(steps)")
      }
    }
  }

  @Test("fault while removing leftovers at open", arguments: [EIO, ENOSPC])
  func recoveryFaults(errno: Int32) async throws {
    var k = 1
    while true {
      let opened = try await withTemporaryDirectory { directory -> Bool in
        let seed = try await CheckpointManager(directory: directory)
        try await seed.waitForCommit(of: seed.save(step: 1, state: SampleStates.state(step: 1)))
        try await seed.close()
        try Self.makeLeftovers(in: directory)

        let fileSystem = FaultInjectingFileSystem()
        fileSystem.arm(.init(operationNumber: k, errno: errno))
        var options = CheckpointManager.Options()
        options.fileSystem = fileSystem
        let events = EventRecorder()
        do {
          let manager = try await CheckpointManager(
            directory: directory, options: options, eventHandler: events.handler)
          try await manager.close()
          #expect(fileSystem.injectedFailures.isEmpty, "k=\(k)")
          return true
        } catch let error as CheckpointError {
          #expect(error.code == .io, "k=\(k)")
          #expect(hasFileSystemError(error, errno: errno), "k=\(k): \(error)")
          #expect(error.message.contains("leftovers"), "k=\(k): \(error.message)")
        }
        #expect(try await reopenAndCheck(directory, expected: SampleStates.state) == 1, "k=\(k)")
        return false
      }
      if opened { break }
      k += 1
    }
    // Two files and a directory in each leftover, then the store fsync.
    #expect(k == 8)
  }

  static func makeLeftovers(in directory: String) throws {
    for name in [".tmp-step-000000000002-1a2b", ".trash-step-000000000000-3c4d"] {
      let path = directory + "/" + name
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
      try Data("partial".utf8).write(to: URL(fileURLWithPath: path + "/rank-00000.data"))
      try Data("{".utf8).write(to: URL(fileURLWithPath: path + "/manifest.json"))
    }
  }

  @Test("fault wrapper counts and names operations")
  func wrapperBasics() throws {
    try withTemporaryDirectorySync { directory in
      let fileSystem = FaultInjectingFileSystem()
      fileSystem.arm(.init(operationNumber: 2, errno: ENOSPC, operations: [.write]))
      let file = try fileSystem.createFile(at: directory + "/a")
      try [UInt8]([1, 2, 3]).withUnsafeBytes { try fileSystem.write($0, to: file, at: 0) }
      let error = #expect(throws: FileSystemError.self) {
        try [UInt8]([4]).withUnsafeBytes { try fileSystem.write($0, to: file, at: 3) }
      }
      #expect(error?.errno == ENOSPC)
      #expect(error?.path == directory + "/a")
      #expect(error?.description.contains("free disk space") == true)
      try [UInt8]([5]).withUnsafeBytes { try fileSystem.write($0, to: file, at: 3) }
      try fileSystem.close(file, path: directory + "/a")
      #expect(fileSystem.operationLog.map(\.operation) == [.createFile, .write, .write, .write])
      #expect(fileSystem.injectedFailures.map(\.number) == [3])
      #expect(try fileSystem.readWholeFile(at: directory + "/a", maxByteCount: 16) == [1, 2, 3, 5])
    }
  }
}

/// Runs `body` and returns its value or the error it threw.
func outcome<T>(of body: () async throws -> T) async -> Result<T, any Error> {
  do {
    return .success(try await body())
  } catch {
    return .failure(error)
  }
}

/// Creates a temporary directory, runs `body` with its path, and removes it afterwards.
func withTemporaryDirectorySync<T>(_ body: (String) throws -> T) throws -> T {
  let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("waymark-test-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try body(path)
}
