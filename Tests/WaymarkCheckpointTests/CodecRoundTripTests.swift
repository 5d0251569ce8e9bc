import Foundation
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

/// Byte patterns that codecs must survive bit for bit.
enum CodecSample: String, CaseIterable, Sendable {
  case zeros
  case randomBytes
  case floatWeights
  case positiveMoments
  case alternatingRuns
  case ramp

  /// `count` bytes of this pattern; the same arguments give the same bytes.
  func bytes(count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func nextRandom() -> UInt64 {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return state
    }
    var bytes = [UInt8](repeating: 0, count: count)
    switch self {
    case .zeros:
      break
    case .randomBytes:
      for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: nextRandom()) }
    case .floatWeights, .positiveMoments:
      // Sums of uniforms are close enough to normal for the exponent lane to be skewed.
      for start in stride(from: 0, to: count - count % 4, by: 4) {
        var sum: Float = 0
        for _ in 0..<4 { sum += Float(nextRandom() >> 40) * 0x1p-24 - 0.5 }
        let value = self == .floatWeights ? 0.02 * sum : 1e-6 * sum * sum
        withUnsafeBytes(of: value.bitPattern.littleEndian) { raw in
          for offset in 0..<4 { bytes[start + offset] = raw[offset] }
        }
      }
      for index in (count - count % 4)..<count { bytes[index] = 0xA5 }
    case .alternatingRuns:
      for index in bytes.indices { bytes[index] = (index / 37) % 2 == 0 ? 0xFF : 0x00 }
    case .ramp:
      for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 7) }
    }
    return bytes
  }
}

@Suite("Codec round trips")
struct CodecRoundTripTests {
  static let lengths = [1, 2, 3, 7, 63, 64, 65, 129, 255, 256, 4_099, 65_541, 300_007]

  static let policies: [CodecPolicy] = [
    .raw, .zstd(), .zstd(level: -5), .byteGroupedZstd(), .byteGroupedZstd(level: -3),
    .byteLanes(), .byteLanes(level: 1), .byteLanes(minimumSavings: 0),
  ]

  @Test(
    "every policy and width survives",
    arguments: CodecSample.allCases, [DType.uint8, .float16, .float32, .float64])
  func everyPolicy(sample: CodecSample, dtype: DType) throws {
    for length in Self.lengths {
      let raw = sample.bytes(count: length)
      for policy in Self.policies {
        let encoded = try raw.withUnsafeBytes {
          try ChunkCoding.encode($0, dtype: dtype, policy: policy)
        }
        #expect(encoded.checksum == XXH3.hash(encoded.stored), "checksum covers the stored bytes")
        let decoded = try decode(encoded.stored, codec: encoded.codec, byteCount: length)
        #expect(
          decoded == raw, "\(sample) \(dtype) \(length) bytes under \(policy) via \(encoded.codec)")
      }
    }
  }

  @Test("compressible floats pick byte lanes", arguments: [DType.float32, .bfloat16, .float64])
  func floatsUseLanes(dtype: DType) throws {
    let raw = CodecSample.floatWeights.bytes(count: 1 << 20)
    let encoded = try raw.withUnsafeBytes {
      try ChunkCoding.encode($0, dtype: dtype, policy: .default)
    }
    #expect(encoded.codec == ChunkCodec.lanes(width: dtype.byteWidth))
    #expect(encoded.stored.count < raw.count)
    #expect(try decode(encoded.stored, codec: encoded.codec, byteCount: raw.count) == raw)
  }

  @Test("random bytes are stored raw", arguments: CodecRoundTripTests.policies)
  func randomStaysRaw(policy: CodecPolicy) throws {
    let raw = CodecSample.randomBytes.bytes(count: 100_003)
    let encoded = try raw.withUnsafeBytes {
      try ChunkCoding.encode($0, dtype: .float32, policy: policy)
    }
    #expect(encoded.codec == .raw)
    #expect(encoded.stored == raw)
  }

  @Test("every codec decodes what it encodes", arguments: ChunkCodec.allCases)
  func everyCodecDirectly(codec: ChunkCodec) throws {
    for length in Self.lengths {
      for sample in [CodecSample.floatWeights, .zeros, .ramp] {
        let raw = sample.bytes(count: length)
        guard let stored = try Self.encode(raw, as: codec) else { continue }
        #expect(try decode(stored, codec: codec, byteCount: length) == raw, "\(sample) \(length)")
      }
    }
  }

  @Test("byte lanes follow the documented layout", arguments: [2, 4, 8])
  func laneLayout(width: Int) throws {
    let length = 70_000 * width + width - 1
    let raw = CodecSample.floatWeights.bytes(count: length)
    let stored = try #require(try Self.encode(raw, as: ChunkCodec.lanes(width: width)))
    let elementCount = length / width

    var cursor = width * ByteLanes.entryByteCount
    var lanesSeen = Set<Int>()
    var kinds: [UInt8] = []
    for entry in 0..<width {
      let offset = entry * ByteLanes.entryByteCount
      let lane = Int(stored[offset])
      let kind = stored[offset + 1]
      let sectionLength = stored[(offset + 2)..<(offset + 6)].reversed()
        .reduce(0) { $0 << 8 | Int($1) }
      lanesSeen.insert(lane)
      kinds.append(kind)
      var laneBytes = [UInt8](repeating: 0, count: elementCount)
      let section = Array(stored[cursor..<(cursor + sectionLength)])
      if kind == 0 {
        #expect(sectionLength == elementCount)
        laneBytes = section
      } else {
        #expect(kind == 1)
        laneBytes = try decode(section, codec: .zstd, byteCount: elementCount)
      }
      let expected = (0..<elementCount).map { raw[$0 * width + lane] }
      #expect(laneBytes == expected, "lane \(lane) holds byte \(lane) of every element")
      cursor += sectionLength
    }
    #expect(lanesSeen == Set(0..<width))
    #expect(kinds.contains(0), "the random mantissa lanes stay raw")
    #expect(kinds.contains(1), "the exponent lane is compressed")
    #expect(Array(stored[cursor...]) == Array(raw[(elementCount * width)...]), "tail is raw")
  }

  @Test("grouping matches the reference", arguments: [1, 2, 3, 4, 8])
  func groupingReference(width: Int) {
    for length in [0, 1, width, 5 * width + 1, 1_000 * width + width - 1] {
      let raw = CodecSample.ramp.bytes(count: length)
      let elementCount = length / width
      var expected: [UInt8] = []
      for lane in 0..<width {
        for element in 0..<elementCount { expected.append(raw[element * width + lane]) }
      }
      expected += raw[(elementCount * width)...]

      var grouped = [UInt8](repeating: 0, count: length)
      raw.withUnsafeBytes { source in
        grouped.withUnsafeMutableBytes { ByteGrouping.group(source, into: $0, width: width) }
      }
      #expect(grouped == expected, "width \(width), \(length) bytes")

      var restored = [UInt8](repeating: 0, count: length)
      grouped.withUnsafeBytes { source in
        restored.withUnsafeMutableBytes { ByteGrouping.ungroup(source, into: $0, width: width) }
      }
      #expect(restored == raw, "width \(width), \(length) bytes")
    }
  }

  @Test("chunks decode in parallel")
  func parallelDecoding() async throws {
    let raw = CodecSample.floatWeights.bytes(count: 1 << 20)
    let encoded = try raw.withUnsafeBytes {
      try ChunkCoding.encode($0, dtype: .float32, policy: .default)
    }
    try await withThrowingTaskGroup(of: Bool.self) { group in
      for _ in 0..<16 {
        group.addTask {
          try decode(encoded.stored, codec: encoded.codec, byteCount: raw.count) == raw
        }
      }
      for try await matches in group { #expect(matches) }
    }
  }

  /// Encodes `raw` with exactly `codec`, or returns `nil` when that codec declines it.
  static func encode(_ raw: [UInt8], as codec: ChunkCodec) throws -> [UInt8]? {
    try raw.withUnsafeBytes { source in
      try ZstdWorkspace.withBorrowed { workspace in
        switch codec {
        case .raw:
          return raw
        case .zstd:
          return try frame(source, workspace: workspace)
        case .byteGroup2Zstd, .byteGroup4Zstd, .byteGroup8Zstd:
          var grouped = [UInt8](repeating: 0, count: raw.count)
          grouped.withUnsafeMutableBytes {
            ByteGrouping.group(source, into: $0, width: codec.groupWidth!)
          }
          return try grouped.withUnsafeBytes { try frame($0, workspace: workspace) }
        case .byteLanes2, .byteLanes4, .byteLanes8:
          return try ByteLanes.encode(
            source, width: codec.laneWidth!, level: 1, minimumSavings: 0.02, workspace: workspace)
        }
      }
    }
  }

  static func frame(_ source: UnsafeRawBufferPointer, workspace: ZstdWorkspace) throws -> [UInt8] {
    var output = [UInt8](repeating: 0, count: 64 + source.count * 2)
    let length = try output.withUnsafeMutableBytes {
      try workspace.compress(source, into: $0, level: 1, forcesLiteralCompression: false)
    }
    return Array(output[..<length])
  }
}

/// Decodes `stored` under `codec` into a fresh buffer of `byteCount` bytes.
func decode(_ stored: [UInt8], codec: ChunkCodec, byteCount: Int) throws -> [UInt8] {
  var output = [UInt8](repeating: 0, count: byteCount)
  try stored.withUnsafeBytes { source in
    try output.withUnsafeMutableBytes { try ChunkCoding.decode(source, codec: codec, into: $0) }
  }
  return output
}
