import Foundation
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

@Suite("Packs of small tensors")
struct PackTests {
  /// Returns a state with small tensors of several dtypes, an empty one, a scalar and a large
  /// one.
  private static func mixedState() throws -> TrainingState {
    var tensors: [String: Tensor] = [:]
    for index in 0..<400 {
      let count = index % 97 + 1
      tensors[String(format: "block.%03d.bias", index)] = try Tensor(
        (0..<count).map { Float(index) * 0.5 + Float($0) * 0.001 }, shape: [count])
      tensors[String(format: "block.%03d.steps", index)] = try Tensor(
        (0..<(index % 5 + 1)).map { Int64(index * 1000 + $0) }, shape: [index % 5 + 1])
    }
    tensors["half.weight"] = try Tensor(
      bytes: (0..<2_000).map { UInt8(truncatingIfNeeded: $0 &* 37) }, dtype: .bfloat16,
      shape: [1_000])
    tensors["mask"] = try Tensor([true, false, true], shape: [3])
    tensors["empty"] = try Tensor([Float](), shape: [0, 4])
    tensors["scalar"] = Tensor(scalar: Float(3.5))
    tensors["large"] = try Tensor(
      (0..<200_000).map { Float(sin(Double($0) * 0.01)) * 0.02 }, shape: [400, 500])
    return TrainingState(tensors: tensors, extraState: ["epoch": 3])
  }

  private static func save(
    _ state: TrainingState, in directory: String, maxPacked: Int = 64 << 10,
    chunkByteCount: Int = 64 << 10, codec: CodecPolicy = .default
  ) async throws -> String {
    var options = CheckpointManager.Options()
    options.chunkByteCount = chunkByteCount
    options.codec = codec
    options.maxPackedTensorByteCount = maxPacked
    let manager = try await CheckpointManager(directory: directory, options: options)
    let committed = try await manager.waitForCommit(of: manager.save(step: 5, state: state))
    try await manager.close()
    return committed.path
  }

  @Test("plan packs small tensors by dtype and cuts the rest into slices")
  func plan() throws {
    let tensors = [
      NamedTensor(name: "a", tensor: try Tensor([Float](repeating: 1, count: 100), shape: [100])),
      NamedTensor(name: "b", tensor: try Tensor([Int64](repeating: 1, count: 10), shape: [10])),
      NamedTensor(name: "c", tensor: try Tensor([Float](repeating: 1, count: 150), shape: [150])),
      NamedTensor(name: "d", tensor: try Tensor([Float](), shape: [0])),
      NamedTensor(name: "e", tensor: try Tensor([Float](repeating: 1, count: 500), shape: [500])),
      NamedTensor(name: "f", tensor: try Tensor([Float](repeating: 1, count: 60), shape: [60])),
    ]
    let jobs = ChunkPlan.jobs(
      for: tensors, chunkByteCount: 1024, maxPackedTensorByteCount: 800)
    let described = jobs.map { job -> String in
      switch job.source {
      case .slice(let tensor, let chunk, let offset):
        "slice \(tensors[tensor].name) \(chunk) @\(offset) \(job.rawByteCount)"
      case .pack(let pack, let members):
        "pack \(pack) \(members.map { tensors[$0].name }.joined()) \(job.rawByteCount)"
      }
    }
    // "a" (400 bytes) and "c" (600) share the f32 pack until "f" would overflow it. "e"
    // (2,000 bytes) is too large to pack, and "d" is empty.
    #expect(
      described == [
        "slice e 0 @0 1024", "slice e 1 @1024 976", "pack 0 ac 1000", "pack 1 f 240",
        "pack 2 b 80",
      ])

    let unpacked = ChunkPlan.jobs(for: tensors, chunkByteCount: 1024, maxPackedTensorByteCount: 0)
    #expect(unpacked.allSatisfy { if case .slice = $0.source { true } else { false } })
    #expect(unpacked.count == 6)
  }

  @Test("mixed dtypes round-trip through packs")
  func roundTrip() async throws {
    try await withTemporaryDirectory { directory in
      let state = try Self.mixedState()
      let path = try await Self.save(state, in: directory)

      let loaded = try await CheckpointReader().load(checkpointAt: path)
      #expect(loaded.state.tensors == state.tensors)
      #expect(loaded.state.extraState == state.extraState)

      let manifest = loaded.manifest
      #expect(manifest.formatVersion == 2)
      #expect(manifest.packs.count >= 3)
      for (index, members) in manifest.packMembers().enumerated() {
        let dtypes = Set(members.map { manifest.tensors[$0].dtype })
        #expect(dtypes.count == 1, "pack \(index) mixes dtypes \(dtypes)")
      }
      let unpacked = manifest.tensors.filter { $0.pack == nil }.map(\.name)
      #expect(unpacked == ["empty", "large"])

      let verification = await CheckpointVerifier().verifyCheckpoint(at: path)
      #expect(verification.isIntact)
      let chunkCount = manifest.tensors.reduce(0) { $0 + $1.chunks.count }
      #expect(verification.chunkCount == chunkCount)
      #expect(verification.packCount == manifest.packs.count)
    }
  }

  @Test("a checkpoint without packs stays format version 1")
  func versionOneWithoutPacks() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await Self.save(try Self.mixedState(), in: directory, maxPacked: 0)
      let bytes = try Data(contentsOf: URL(fileURLWithPath: path + "/" + ManifestFile.fileName))
      let text = String(decoding: bytes, as: UTF8.self)
      #expect(text.contains(#""formatVersion":1,"#))
      #expect(!text.contains(#""pack"#))
      let loaded = try await CheckpointReader().load(checkpointAt: path)
      #expect(loaded.state.tensors == (try Self.mixedState()).tensors)
    }
  }

  @Test("damage in a pack names the pack and its tensors")
  func damagedPack() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await Self.save(try Self.mixedState(), in: directory)
      let manifest = try await CheckpointReader().manifest(ofCheckpointAt: path)
      let pack = manifest.packs[1]
      try flipByte(in: path + "/" + pack.file, at: Int(pack.offset + pack.storedByteCount / 2))

      let error = await #expect(throws: CheckpointError.self) {
        try await CheckpointReader().load(checkpointAt: path)
      }
      #expect(error?.code == .checksumMismatch)
      #expect(error?.pack == 1)
      #expect(error?.tensor == nil)
      let firstMember = manifest.tensors[manifest.packMembers()[1][0]].name
      #expect(error?.message.hasPrefix("pack 1 (tensors '\(firstMember)'") == true)

      let verification = await CheckpointVerifier().verifyCheckpoint(at: path)
      #expect(verification.problems.map(\.pack) == [1])
      #expect(verification.problems.first?.code == "checksumMismatch")
    }
  }

  @Test("a pack cut short is a truncated chunk")
  func truncatedPack() async throws {
    try await withTemporaryDirectory { directory in
      // Only small tensors, so every stored range is a pack and the last one in the file is
      // the only one cut.
      var state = try Self.mixedState()
      state.tensors = state.tensors.filter { $0.value.byteCount > 0 && $0.key != "large" }
      let path = try await Self.save(state, in: directory)
      let manifest = try await CheckpointReader().manifest(ofCheckpointAt: path)
      try #require(manifest.tensors.allSatisfy { $0.pack != nil })
      let last = manifest.packs.indices.max {
        manifest.packs[$0].offset < manifest.packs[$1].offset
      }!
      let lastEnd = manifest.packs[last].offset + manifest.packs[last].storedByteCount
      #expect(truncate(path + "/" + manifest.packs[last].file, off_t(lastEnd - 1)) == 0)

      let error = await #expect(throws: CheckpointError.self) {
        try await CheckpointReader().load(checkpointAt: path)
      }
      #expect(error?.code == .truncatedChunk)
      #expect(error?.pack == last)
    }
  }

  @Test("verify finds a bad bool byte in a pack")
  func badBoolByteInPack() async throws {
    try await withTemporaryDirectory { directory in
      let state = TrainingState(tensors: [
        "flags": try Tensor([true, false, true, true], shape: [4]),
        "scale": try Tensor([Float(1.5), 2.5], shape: [2]),
      ])
      let path = try await Self.save(state, in: directory, codec: .raw)
      var manifest = try await CheckpointReader().manifest(ofCheckpointAt: path)
      let flags = try #require(manifest.tensors.first { $0.name == "flags" })
      let location = try #require(flags.pack)
      let pack = manifest.packs[location.index]

      // Stored raw, so one data byte becomes 2; the pack's checksum is written again to
      // match, as a buggy writer would have.
      let dataPath = path + "/" + pack.file
      var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dataPath)))
      data[Int(pack.offset + location.rawOffset) + 1] = 2
      try Data(data).write(to: URL(fileURLWithPath: dataPath))
      let stored = Array(data[Int(pack.offset)..<Int(pack.offset + pack.storedByteCount)])
      manifest.packs[location.index].checksum = XXH3.hexString(stored.withUnsafeBytes(XXH3.hash))
      let manifestPath = path + "/" + ManifestFile.fileName
      try Data(try ManifestFile.encode(manifest)).write(to: URL(fileURLWithPath: manifestPath))

      let verification = await CheckpointVerifier().verifyCheckpoint(at: path)
      let problem = try #require(verification.problems.first)
      #expect(verification.problems.count == 1)
      #expect(problem.code == "invalidTensor")
      #expect(problem.tensor == "flags")
      #expect(problem.pack == location.index)
      #expect(problem.message.contains("byte 2 at offset 1"))

      let error = await #expect(throws: CheckpointError.self) {
        try await CheckpointReader().load(checkpointAt: path)
      }
      #expect(error?.code == .invalidTensor)
    }
  }

  @Test("verify names a linked checkpoint directory")
  func linkedCheckpoint() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await Self.save(try Self.mixedState(), in: directory)
      let link = directory + "/linked"
      try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)

      let error = await #expect(throws: CheckpointError.self) {
        _ = try await CheckpointVerifier().verify(path: link)
      }
      #expect(error?.message.contains("is a symbolic link") == true)
    }
  }
}
