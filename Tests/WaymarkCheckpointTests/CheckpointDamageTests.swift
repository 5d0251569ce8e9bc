import Foundation
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

@Suite("Damaged checkpoints")
struct CheckpointDamageTests {
  /// Saves one checkpoint with two tensors and returns its path.
  static func saveSample(in directory: String, step: Int64 = 1) async throws -> String {
    var options = CheckpointManager.Options()
    options.chunkByteCount = 1024
    let manager = try await CheckpointManager(directory: directory, options: options)
    let state = TrainingState(
      tensors: [
        "alpha": try Tensor((0..<2000).map { Float($0) }, shape: [2000]),
        "beta": try Tensor((0..<300).map { Int64($0) }, shape: [3, 100]),
      ])
    let committed = try await manager.waitForCommit(of: manager.save(step: step, state: state))
    try await manager.close()
    return committed.path
  }

  @Test("flipped chunk byte names tensor and chunk")
  func flippedChunkByte() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await Self.saveSample(in: directory)
      let manifest = try await CheckpointReader().manifest(ofCheckpointAt: path)
      let beta = try #require(manifest.tensors.first { $0.name == "beta" })
      let chunk = beta.chunks[1]
      try flipByte(in: path + "/" + chunk.file, at: Int(chunk.offset) + 3)

      let error = await #expect(throws: CheckpointError.self) {
        try await CheckpointReader().load(checkpointAt: path)
      }
      #expect(error?.code == .checksumMismatch)
      #expect(error?.tensor == "beta")
      #expect(error?.chunk == 1)
      #expect(error?.path == path)

      let report = try await CheckpointVerifier().verify(path: directory)
      #expect(!report.ok)
      #expect(report.checkpoints.first?.problems.map(\.tensor) == ["beta"])
      #expect(report.checkpoints.first?.problems.first?.chunk == 1)
    }
  }

  @Test("flipped manifest byte is detected")
  func flippedManifestByte() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await Self.saveSample(in: directory)
      try flipByte(in: path + "/manifest.json", at: ManifestFile.bodyOffset + 20)

      let error = await #expect(throws: CheckpointError.self) {
        try await CheckpointReader().load(checkpointAt: path)
      }
      #expect(error?.code == .invalidManifest)
      #expect(error?.message.contains("checksum mismatch") == true)
      let report = try await CheckpointVerifier().verify(path: path)
      #expect(!report.ok)
    }
  }

  @Test("truncated data file is detected")
  func truncatedDataFile() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await Self.saveSample(in: directory)
      let dataPath = path + "/rank-00000.data"
      let size = try FileManager.default.attributesOfItem(atPath: dataPath)[.size] as! Int
      truncate(dataPath, off_t(size - 10))

      let report = try await CheckpointVerifier().verify(path: path)
      #expect(report.checkpoints.first?.problems.first?.code == "truncatedChunk")
    }
  }

  @Test("leftover temporary directory is ignored then removed")
  func leftoverTemporaryDirectory() async throws {
    try await withTemporaryDirectory { directory in
      _ = try await Self.saveSample(in: directory, step: 1)
      let leftover = directory + "/.tmp-step-000000000002-abc"
      try FileManager.default.createDirectory(atPath: leftover, withIntermediateDirectories: false)
      try Data("partial".utf8).write(to: URL(fileURLWithPath: leftover + "/rank-00000.data"))

      let store = CheckpointStore(directory: directory)
      #expect(try await store.committedCheckpoints().map(\.step) == [1])
      let (found, skipped) = try await store.newestValid()
      #expect(found?.entry.step == 1)
      #expect(skipped.isEmpty)
      #expect(try await CheckpointVerifier().verify(path: directory).ok)

      let manager = try await CheckpointManager(directory: directory)
      try await manager.close()
      #expect(!FileManager.default.fileExists(atPath: leftover))
    }
  }

  @Test("resume falls back past a damaged newest checkpoint")
  func resumeFallsBack() async throws {
    try await withTemporaryDirectory { directory in
      _ = try await Self.saveSample(in: directory, step: 1)
      let newest = try await Self.saveSample(in: directory, step: 2)
      try flipByte(in: newest + "/rank-00000.data", at: 5)

      final class Events: @unchecked Sendable {
        let lock = NSLock()
        var skipped: [Int64] = []
      }
      let events = Events()
      let manager = try await CheckpointManager(directory: directory) { event in
        if case .checkpointSkipped(let step, _, _) = event {
          events.lock.withLock { events.skipped.append(step) }
        }
      }
      let loaded = try await manager.loadLatest()
      try await manager.close()
      #expect(loaded?.step == 1)
      #expect(events.lock.withLock { events.skipped } == [2])
    }
  }

  @Test("second writer gets a lock error")
  func secondWriterRejected() async throws {
    try await withTemporaryDirectory { directory in
      let first = try await CheckpointManager(directory: directory)
      let error = await #expect(throws: CheckpointError.self) {
        _ = try await CheckpointManager(directory: directory)
      }
      #expect(error?.code == .storeLocked)
      #expect(error?.message.contains("pid \(getpid())") == true)
      try await first.close()
      let again = try await CheckpointManager(directory: directory)
      try await again.close()
    }
  }
}

@Suite("Bool tensors")
struct BoolTensorTests {
  @Test("byte other than 0 or 1 rejected")
  func invalidBoolByte() throws {
    let error = try #require(throws: CheckpointError.self) {
      try Tensor(bytes: [0, 1, 2], dtype: .bool, shape: [3])
    }
    #expect(error.code == .invalidTensor)
    #expect(error.message.contains("byte 2 at offset 2"))
  }

  @Test("zero and one accepted")
  func validBoolBytes() throws {
    let tensor = try Tensor([true, false, true], shape: [3])
    #expect(try tensor.scalars(as: Bool.self) == [true, false, true])
  }
}
