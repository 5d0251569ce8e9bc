import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

@Suite("Power loss simulator")
struct PowerLossModelTests {
  static func write(
    _ bytes: [UInt8], to file: FileDescriptor, at offset: Int64 = 0, in fileSystem: any FileSystem
  )
    throws
  {
    try bytes.withUnsafeBytes { try fileSystem.write($0, to: file, at: offset) }
  }

  static func contents(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map(Array.init)
  }

  @Test("file never fsynced vanishes")
  func unsyncedFile() throws {
    try withTemporaryDirectorySync { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      let file = try fileSystem.createFile(at: root + "/a")
      try Self.write([1, 2, 3], to: file, in: fileSystem)
      try fileSystem.close(file, path: root + "/a")
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/a") == nil)
    }
  }

  @Test("fsynced file without directory fsync vanishes")
  func fileWithoutDirectoryFsync() throws {
    try withTemporaryDirectorySync { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      let file = try fileSystem.createFile(at: root + "/a")
      try Self.write([1, 2, 3], to: file, in: fileSystem)
      try fileSystem.synchronize(file, path: root + "/a")
      try fileSystem.close(file, path: root + "/a")
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/a") == nil)
    }
  }

  @Test("file and directory fsynced survive")
  func durableFile() throws {
    try withTemporaryDirectorySync { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      let file = try fileSystem.createFile(at: root + "/a")
      try Self.write([1, 2, 3], to: file, in: fileSystem)
      try fileSystem.synchronize(file, path: root + "/a")
      try fileSystem.close(file, path: root + "/a")
      try fileSystem.synchronizeDirectory(at: root)
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/a") == [1, 2, 3])
    }
  }

  @Test("name durable before the data comes back empty")
  func nameBeforeData() throws {
    try withTemporaryDirectorySync { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      let file = try fileSystem.createFile(at: root + "/a")
      try Self.write([1, 2, 3], to: file, in: fileSystem)
      try fileSystem.synchronizeDirectory(at: root)
      try fileSystem.close(file, path: root + "/a")
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/a") == [])
    }
  }

  @Test("writes after the last fsync are lost")
  func writesAfterFsync() throws {
    try withTemporaryDirectorySync { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      let file = try fileSystem.createFile(at: root + "/a")
      try Self.write([1, 2, 3], to: file, in: fileSystem)
      try fileSystem.synchronize(file, path: root + "/a")
      try Self.write([4], to: file, at: 3, in: fileSystem)
      try fileSystem.synchronizeDirectory(at: root)
      try fileSystem.close(file, path: root + "/a")
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/a") == [1, 2, 3])
    }
  }

  @Test("rename without directory fsync reverts")
  func renameWithoutFsync() throws {
    try withTemporaryDirectorySync { root in
      try Data([9]).write(to: URL(fileURLWithPath: root + "/final"))
      let fileSystem = try PowerLossFileSystem(root: root)
      try fileSystem.writeNewFile(at: root + "/staged", bytes: [1, 2])
      try fileSystem.synchronizeDirectory(at: root)
      try fileSystem.rename(from: root + "/staged", to: root + "/final")
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/final") == [9])
      #expect(Self.contents(root + "/staged") == [1, 2])
    }
  }

  @Test("rename with directory fsync is durable")
  func renameWithFsync() throws {
    try withTemporaryDirectorySync { root in
      try Data([9]).write(to: URL(fileURLWithPath: root + "/final"))
      let fileSystem = try PowerLossFileSystem(root: root)
      try fileSystem.writeNewFile(at: root + "/staged", bytes: [1, 2])
      try fileSystem.rename(from: root + "/staged", to: root + "/final")
      try fileSystem.synchronizeDirectory(at: root)
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/final") == [1, 2])
      #expect(Self.contents(root + "/staged") == nil)
    }
  }

  @Test("rename before the data fsync loses the data")
  func renameBeforeDataFsync() throws {
    // The mistake the checkpoint writer must not make: a durable name for undurable data.
    try withTemporaryDirectorySync { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      let file = try fileSystem.createFile(at: root + "/staged")
      try Self.write([1, 2, 3], to: file, in: fileSystem)
      try fileSystem.close(file, path: root + "/staged")
      try fileSystem.rename(from: root + "/staged", to: root + "/final")
      try fileSystem.synchronizeDirectory(at: root)
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/final") == [])
    }
  }

  @Test("unlink without directory fsync comes back")
  func unlinkWithoutFsync() throws {
    try withTemporaryDirectorySync { root in
      try Data([7, 7]).write(to: URL(fileURLWithPath: root + "/a"))
      let fileSystem = try PowerLossFileSystem(root: root)
      try fileSystem.removeFile(at: root + "/a")
      #expect(Self.contents(root + "/a") == nil)
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/a") == [7, 7])
    }
  }

  @Test("new directory comes back empty until fsynced")
  func newDirectory() throws {
    try withTemporaryDirectorySync { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      try fileSystem.createDirectory(at: root + "/d")
      try fileSystem.synchronizeDirectory(at: root)
      try fileSystem.writeNewFile(at: root + "/d/f", bytes: [1])
      try fileSystem.cutPowerNow()
      #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/d") == [])

      try fileSystem.restorePower()
      try fileSystem.writeNewFile(at: root + "/d/f", bytes: [2])
      try fileSystem.synchronizeDirectory(at: root + "/d")
      try fileSystem.cutPowerNow()
      #expect(Self.contents(root + "/d/f") == [2])
    }
  }

  @Test("armed loss hits the k-th operation and rejects later calls")
  func armedLoss() throws {
    try withTemporaryDirectorySync { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      fileSystem.cutPower(atOperation: 3)
      let file = try fileSystem.createFile(at: root + "/a")
      try Self.write([1], to: file, in: fileSystem)
      let error = #expect(throws: FileSystemError.self) {
        try fileSystem.synchronize(file, path: root + "/a")
      }
      #expect(error?.errno == EIO)
      #expect(fileSystem.isPowerLost)
      #expect(fileSystem.powerLossOperation?.operation == .synchronize)
      #expect(fileSystem.powerLossOperation?.number == 3)
      #expect(throws: FileSystemError.self) { _ = try fileSystem.status(at: root) }
      #expect(throws: FileSystemError.self) { try fileSystem.createDirectory(at: root + "/d") }
      try fileSystem.close(file, path: root + "/a")
      #expect(Self.contents(root + "/a") == nil)

      try fileSystem.restorePower()
      #expect(!fileSystem.isPowerLost)
      try fileSystem.createDirectory(at: root + "/d")
    }
  }

  @Test("changes outside the root are rejected")
  func outsideRoot() throws {
    try withTemporaryDirectorySync { root in
      try FileManager.default.createDirectory(
        atPath: root + "/sim", withIntermediateDirectories: false)
      let fileSystem = try PowerLossFileSystem(root: root + "/sim")
      let error = #expect(throws: FileSystemError.self) {
        try fileSystem.createDirectory(at: root + "/elsewhere")
      }
      #expect(error?.errno == EXDEV)
      #expect(fileSystem.exists(at: root + "/sim"))
    }
  }
}

@Suite("Power loss during save and retention")
struct PowerLossCheckpointTests {
  static func openManager(_ store: String, fileSystem: any FileSystem) async throws
    -> CheckpointManager
  {
    var options = CheckpointManager.Options()
    options.fileSystem = fileSystem
    options.chunkByteCount = 4096
    options.retention = RetentionPolicy(keepLast: 2)
    return try await CheckpointManager(directory: store, options: options)
  }

  /// Counted operations of saving step 4 after steps 1 to 3, retention included.
  static func operationsOfOneCycle() async throws -> Int {
    try await withTemporaryDirectory { root in
      let fileSystem = try PowerLossFileSystem(root: root)
      let manager = try await openManager(root + "/store", fileSystem: fileSystem)
      try await FaultInjectionTests.commitFirstSteps(manager)
      let before = fileSystem.operationCount
      try await manager.waitForCommit(of: manager.save(step: 4, state: SampleStates.state(step: 4)))
      try await manager.close()
      return fileSystem.operationCount - before
    }
  }

  @Test("power loss at each operation keeps the newest commit")
  func sweep() async throws {
    let count = try await Self.operationsOfOneCycle()
    #expect(count >= 15)

    // k = count + 1 loses power only after the whole cycle.
    for k in 1...(count + 1) {
      try await withTemporaryDirectory { root in
        let store = root + "/store"
        let fileSystem = try PowerLossFileSystem(root: root)
        let manager = try await Self.openManager(store, fileSystem: fileSystem)
        try await FaultInjectionTests.commitFirstSteps(manager)

        fileSystem.cutPower(atOperation: k)
        let ticket = try await manager.save(step: 4, state: SampleStates.state(step: 4))
        let result = await outcome { try await manager.waitForCommit(of: ticket) }
        if !fileSystem.isPowerLost { try fileSystem.cutPowerNow() }
        _ = await outcome { try await manager.close() }
        let lostAt =
          fileSystem.powerLossOperation.map(String.init(describing:)) ?? "after the cycle"

        let resumed = try await reopenAndCheck(store, expected: SampleStates.state)
        switch result {
        case .success:
          #expect(resumed == 4, "k=\(k), lost at \(lostAt): a commit reported durable was lost")
        case .failure:
          #expect(resumed == 3, "k=\(k), lost at \(lostAt): a failed save became visible")
        }
        let steps = try await CheckpointStore(directory: store).committedCheckpoints().map(\.step)
        #expect(Set(steps).isSubset(of: [2, 3, 4]), "k=\(k): \(steps)")
        #expect(steps.contains(3), "k=\(k): \(steps)")
      }
    }
  }

  @Test("repeated power losses never lose a commit")
  func repeatedLosses() async throws {
    try await withTemporaryDirectory { root in
      let store = root + "/store"
      let fileSystem = try PowerLossFileSystem(root: root)
      var newestDurable: Int64?
      var step: Int64 = 1
      for round in 0..<12 {
        let manager = try await Self.openManager(store, fileSystem: fileSystem)
        fileSystem.cutPower(atOperation: 5 + round * 7)
        while !fileSystem.isPowerLost {
          let ticket = try await manager.save(step: step, state: SampleStates.state(step: step))
          if case .success = await outcome(of: { try await manager.waitForCommit(of: ticket) }) {
            newestDurable = step
          }
          step += 1
        }
        _ = await outcome { try await manager.close() }

        let resumed = try await reopenAndCheck(store, expected: SampleStates.state)
        #expect(resumed == newestDurable, "round \(round)")
        try fileSystem.restorePower()
        step = (resumed ?? 0) + 1
      }
    }
  }
}
