import Foundation
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

@Suite("Checkpoint round trip")
struct CheckpointRoundTripTests {
  static func sampleTensor(_ dtype: DType, shape: [Int], seed: UInt8 = 7) throws -> Tensor {
    let count = try Tensor.elementCount(of: shape) * dtype.byteWidth
    var bytes = [UInt8](repeating: 0, count: count)
    var value = seed
    for index in bytes.indices {
      value = value &* 31 &+ 17
      bytes[index] = dtype == .bool ? value & 1 : value
    }
    return try Tensor(bytes: bytes, dtype: dtype, shape: shape)
  }

  @Test("every dtype survives", arguments: DType.allCases)
  func everyDType(dtype: DType) async throws {
    try await withTemporaryDirectory { directory in
      let state = TrainingState(
        tensors: [
          "matrix": try Self.sampleTensor(dtype, shape: [3, 5]),
          "scalar": try Self.sampleTensor(dtype, shape: []),
          "empty": try Self.sampleTensor(dtype, shape: [4, 0, 2]),
        ],
        extraState: ["optimizer": ["lr": 0.001, "step": 12], "rng": .unsignedInt(UInt64.max - 3)])
      let manager = try await CheckpointManager(directory: directory)
      let ticket = try await manager.save(step: 10, state: state, metrics: ["loss": 1.5])
      try await manager.waitForCommit(of: ticket)
      let loaded = try await manager.load(step: 10)
      try await manager.close()

      #expect(loaded.state == state)
      #expect(loaded.metrics == ["loss": 1.5])
      #expect(loaded.state.tensors["scalar"]?.shape == [])
      #expect(loaded.state.tensors["empty"]?.byteCount == 0)
    }
  }

  @Test(
    "tensor spanning many chunks",
    arguments: [CodecPolicy.raw, .zstd(), .byteGroupedZstd(), .zstd(level: -5)])
  func manyChunks(codec: CodecPolicy) async throws {
    try await withTemporaryDirectory { directory in
      let values = (0..<100_003).map { Float(sin(Double($0) * 0.01)) * 0.02 }
      let state = TrainingState(tensors: ["weights": try Tensor(values, shape: [100_003])])
      var options = CheckpointManager.Options()
      options.chunkByteCount = 4096
      options.codec = codec
      let manager = try await CheckpointManager(directory: directory, options: options)
      let committed = try await manager.waitForCommit(of: manager.save(step: 1, state: state))
      try await manager.close()

      let manifest = try await CheckpointReader().manifest(ofCheckpointAt: committed.path)
      let chunks = try #require(manifest.tensors.first?.chunks)
      #expect(chunks.count == (400_012 + 4095) / 4096)
      let loaded = try await CheckpointReader().load(checkpointAt: committed.path)
      #expect(try loaded.state.tensors["weights"]?.scalars(as: Float.self) == values)
    }
  }

  @Test("non-finite metrics survive")
  func nonFiniteMetrics() async throws {
    try await withTemporaryDirectory { directory in
      let manager = try await CheckpointManager(directory: directory)
      let metrics = ["nan": Double.nan, "inf": .infinity, "negativeInf": -.infinity, "plain": 0.25]
      try await manager.waitForCommit(
        of: manager.save(step: 3, state: TrainingState(), metrics: metrics))
      let loaded = try await manager.load(step: 3)
      try await manager.close()

      #expect(try #require(loaded.metrics["nan"]).isNaN)
      #expect(loaded.metrics["inf"] == .infinity)
      #expect(loaded.metrics["negativeInf"] == -.infinity)
      #expect(loaded.metrics["plain"] == 0.25)
    }
  }

  @Test("committed step is never overwritten")
  func stepNotOverwritten() async throws {
    try await withTemporaryDirectory { directory in
      let manager = try await CheckpointManager(directory: directory)
      try await manager.waitForCommit(
        of: manager.save(step: 5, state: TrainingState(extraState: "first")))
      let second = try await manager.save(step: 5, state: TrainingState(extraState: "second"))
      await #expect(throws: CheckpointError.self) { try await manager.waitForCommit(of: second) }
      let loaded = try await manager.load(step: 5)
      try await manager.close()
      #expect(loaded.state.extraState == "first")
    }
  }

  @Test("saves commit in request order")
  func requestOrder() async throws {
    try await withTemporaryDirectory { directory in
      var options = CheckpointManager.Options()
      options.backpressure = .queue(maxByteCount: 1 << 30)
      let manager = try await CheckpointManager(directory: directory, options: options)
      let tensor = try Self.sampleTensor(.float32, shape: [1000])
      var tickets: [CheckpointManager.SaveTicket] = []
      for step in 0..<6 {
        tickets.append(
          try await manager.save(step: Int64(step), state: TrainingState(tensors: ["t": tensor])))
      }
      try await manager.waitForAllSaves()
      let steps = try await manager.store.committedCheckpoints().map(\.step)
      try await manager.close()
      #expect(steps == [0, 1, 2, 3, 4, 5])
      #expect(tickets.allSatisfy { $0.isAccepted })
    }
  }
}
