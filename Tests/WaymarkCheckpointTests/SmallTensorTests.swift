import Foundation
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

@Suite("Many small tensors")
struct SmallTensorTests {
  @Test("batches respect the chunk size")
  func batches() {
    let sizes = [100, 200, 300, 1000, 50, 50, 999, 1]
    let jobs = sizes.enumerated().map { index, size in
      ChunkJob(source: .slice(tensorIndex: index, chunkIndex: 0, rawOffset: 0), rawByteCount: size)
    }
    let batches = ChunkPlan.batches(of: jobs, maxRawByteCount: 1000)
    let tensorIndices = batches.map { batch in
      batch.jobs.map { job in
        guard case .slice(let tensorIndex, _, _) = job.source else { return -1 }
        return tensorIndex
      }
    }
    #expect(tensorIndices == [[0, 1, 2], [3], [4, 5], [6, 7]])
    #expect(batches.allSatisfy { $0.jobs.reduce(0) { $0 + $1.rawByteCount } <= 1000 })
    #expect(ChunkPlan.batches(of: [], maxRawByteCount: 1000).isEmpty)
  }

  @Test("small tensors round-trip in order")
  func roundTrip() async throws {
    try await withTemporaryDirectory { directory in
      var tensors: [String: Tensor] = [:]
      for index in 0..<3_000 {
        let values = (0..<(index % 700 + 1)).map { Float(index) * 0.01 + Float($0) * 1e-4 }
        tensors["block.\(index).bias"] = try Tensor(values, shape: [values.count])
      }
      let large = (0..<300_000).map { Float(sin(Double($0) * 0.001)) * 0.02 }
      tensors["large.weight"] = try Tensor(large, shape: [300_000])
      let state = TrainingState(tensors: tensors, extraState: ["epoch": 1])

      var options = CheckpointManager.Options()
      options.chunkByteCount = 256 << 10
      let manager = try await CheckpointManager(directory: directory, options: options)
      let ticket = try await manager.save(step: 7, state: state)
      let committed = try await manager.waitForCommit(of: ticket)
      try await manager.close()

      let loaded = try await CheckpointReader().load(checkpointAt: committed.path)
      #expect(loaded.state.tensors == tensors)
      #expect(loaded.manifest.formatVersion == 2)
      #expect(loaded.manifest.packs.count > 1)
      #expect(loaded.manifest.tensors.filter { $0.pack == nil }.map(\.name) == ["large.weight"])
      for entry in loaded.manifest.tensors {
        let offsets = entry.chunks.map(\.rawOffset)
        #expect(offsets == offsets.sorted(), "chunks of \(entry.name) are out of order")
      }
      let verification = await CheckpointVerifier().verifyCheckpoint(at: committed.path)
      #expect(verification.isIntact)
      #expect(verification.tensorCount == 3_001)
    }
  }

  @Test(
    "fast name check matches the rules",
    arguments: [
      ("layers.0.weight", true), ("model/layer1/weight", true), ("a..b", true), ("...", true),
      (".hidden", true), ("é/ü", true), ("", false), ("/root", false), ("..", false),
      ("a/../b", false), ("a/./b", false), ("a/.", false), ("a/..", false), ("tab\there", false),
      ("del\u{7F}", false), (String(repeating: "x", count: 1024), true),
      (String(repeating: "x", count: 1025), false),
    ])
  func nameRules(name: String, isValid: Bool) {
    #expect(((try? TensorName.validate(name)) != nil) == isValid)
  }

  @Test("entropy of random, skewed and constant bytes")
  func entropy() {
    var generator = SplitMix64(state: 42)
    let random = (0..<1024).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let skewed = (0..<1024).map { UInt8($0 % 4) }
    let constant = [UInt8](repeating: 9, count: 1024)
    #expect(random.withUnsafeBytes(ByteEntropy.bitsPerByte) > 7.9)
    #expect(abs(skewed.withUnsafeBytes(ByteEntropy.bitsPerByte) - 2.0) < 0.01)
    #expect(constant.withUnsafeBytes(ByteEntropy.bitsPerByte) == 0)
    #expect([UInt8]().withUnsafeBytes(ByteEntropy.bitsPerByte) == 0)
  }

  @Test("shared read names the damaged chunk")
  func damageInSharedRead() async throws {
    try await withTemporaryDirectory { directory in
      var tensors: [String: Tensor] = [:]
      for index in 0..<200 {
        tensors[String(format: "t%03d", index)] = try Tensor(
          (0..<64).map { Float(index * 64 + $0) }, shape: [64])
      }
      // Every tensor gets chunks of its own, which are then read in shared batches.
      var options = CheckpointManager.Options()
      options.maxPackedTensorByteCount = 0
      let manager = try await CheckpointManager(directory: directory, options: options)
      let committed = try await manager.waitForCommit(
        of: try await manager.save(step: 1, state: TrainingState(tensors: tensors)))
      try await manager.close()

      let manifest = try await CheckpointReader().manifest(ofCheckpointAt: committed.path)
      #expect(manifest.formatVersion == 1)
      let target = manifest.tensors[120]
      let dataPath = committed.path + "/" + target.chunks[0].file
      let handle = try #require(FileHandle(forUpdatingAtPath: dataPath))
      try handle.seek(toOffset: UInt64(target.chunks[0].offset + 3))
      let original = try #require(try handle.read(upToCount: 1))
      try handle.seek(toOffset: UInt64(target.chunks[0].offset + 3))
      try handle.write(contentsOf: Data([original[0] ^ 0x40]))
      try handle.close()

      let error = await #expect(throws: CheckpointError.self) {
        _ = try await CheckpointReader().load(checkpointAt: committed.path)
      }
      #expect(error?.code == .checksumMismatch)
      #expect(error?.tensor == target.name)
      #expect(error?.chunk == 0)

      let restore = try #require(FileHandle(forUpdatingAtPath: dataPath))
      try restore.seek(toOffset: UInt64(target.chunks[0].offset + 3))
      try restore.write(contentsOf: original)
      try restore.close()
      let last = manifest.tensors.max { $0.chunks[0].offset < $1.chunks[0].offset }!
      #expect(truncate(dataPath, off_t(last.chunks[0].offset + 1)) == 0)
      let truncated = await #expect(throws: CheckpointError.self) {
        _ = try await CheckpointReader().load(checkpointAt: committed.path)
      }
      #expect(truncated?.code == .truncatedChunk)
      #expect(truncated?.tensor == last.name)
    }
  }

  @Test("failed allocation is an error")
  func failedAllocation() {
    // More than a 64-bit process's address space, so the allocation fails on every system.
    let error = #expect(throws: CheckpointError.self) {
      _ = try TensorBuffer(byteCount: 1 << 50)
    }
    #expect(error?.code == .outOfMemory)
  }

  @Test("huge declared tensor fails without allocating")
  func hugeDeclaredTensor() async throws {
    try await withTemporaryDirectory { directory in
      let manager = try await CheckpointManager(directory: directory)
      let state = TrainingState(tensors: [
        "small": try Tensor([Float](repeating: 1, count: 64), shape: [64])
      ])
      let committed = try await manager.waitForCommit(
        of: try await manager.save(step: 1, state: state))
      try await manager.close()

      var manifest = try await CheckpointReader().manifest(ofCheckpointAt: committed.path)
      let chunkByteCount: Int64 = 256 << 20
      let file = manifest.writers[0].files[0]
      manifest.packs = []
      manifest.tensors = [
        TensorEntry(
          name: "huge", dtype: .uint8, shape: [Int(chunkByteCount) * 4096],
          byteCount: chunkByteCount * 4096,
          chunks: (0..<4096).map { index in
            ChunkEntry(
              file: file, offset: Int64(index) * 16, storedByteCount: 16,
              rawOffset: Int64(index) * chunkByteCount, rawByteCount: chunkByteCount,
              codec: .zstd, checksum: "0000000000000000")
          })
      ]
      let manifestPath = committed.path + "/" + ManifestFile.fileName
      try Data(try ManifestFile.encode(manifest)).write(to: URL(fileURLWithPath: manifestPath))

      let error = await #expect(throws: CheckpointError.self) {
        _ = try await CheckpointReader().load(checkpointAt: committed.path)
      }
      #expect(error?.code == .truncatedChunk)
      #expect(error?.tensor == "huge")
    }
  }
}
