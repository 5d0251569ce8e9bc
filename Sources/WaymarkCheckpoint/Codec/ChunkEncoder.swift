import CZstd
import WaymarkCore

/// A chunk after encoding: the stored bytes, the codec that produced them and their checksum.
struct EncodedChunk: Sendable {
  var stored: [UInt8]
  var codec: ChunkCodec
  var checksum: UInt64
}

/// Encodes and decodes single chunks. Every function here blocks and runs on a pool thread.
enum ChunkCoding {
  /// Hard upper bound on a chunk's raw length that readers accept: 256 MiB.
  static let maxRawByteCount: Int64 = 256 << 20

  /// Hard upper bound on a chunk's stored length that readers accept: twice the raw bound.
  /// Waymark stores a chunk raw when encoding does not shrink it, so its chunks never come
  /// near this. The bound keeps sums of stored lengths far from overflowing `Int64`.
  static let maxStoredByteCount: Int64 = 2 * maxRawByteCount

  /// Encodes `raw` with the policy's codec, falling back to raw storage when compression
  /// saves less than the policy's minimum.
  static func encode(_ raw: UnsafeRawBufferPointer, dtype: DType, policy: CodecPolicy) throws
    -> EncodedChunk
  {
    let codec = policy.preferredCodec(for: dtype)
    if codec != .raw, raw.count > 0 {
      let compressed = try ZstdWorkspace.withBorrowed { workspace in
        try compress(raw, codec: codec, policy: policy, workspace: workspace)
      }
      if let compressed {
        let checksum = compressed.withUnsafeBytes(XXH3.hash)
        return EncodedChunk(stored: compressed, codec: codec, checksum: checksum)
      }
    }
    return EncodedChunk(stored: Array(raw), codec: .raw, checksum: XXH3.hash(raw))
  }

  /// Returns the stored bytes of `raw` under `codec`, or `nil` when they would not save the
  /// policy's minimum.
  private static func compress(
    _ raw: UnsafeRawBufferPointer, codec: ChunkCodec, policy: CodecPolicy,
    workspace: ZstdWorkspace
  ) throws -> [UInt8]? {
    if let width = codec.laneWidth {
      return try ByteLanes.encode(
        raw, width: width, level: policy.level, minimumSavings: policy.minimumSavings,
        workspace: workspace)
    }
    let limit = Double(raw.count) * (1 - policy.minimumSavings)
    let frame: [UInt8]
    if let width = codec.groupWidth {
      frame = try workspace.withScratch(byteCount: raw.count) { scratch in
        ByteGrouping.group(raw, into: scratch, width: width)
        return try zstdFrame(
          UnsafeRawBufferPointer(scratch), policy: policy, workspace: workspace)
      }
    } else {
      frame = try zstdFrame(raw, policy: policy, workspace: workspace)
    }
    return Double(frame.count) <= limit ? frame : nil
  }

  private static func zstdFrame(
    _ source: UnsafeRawBufferPointer, policy: CodecPolicy, workspace: ZstdWorkspace
  ) throws -> [UInt8] {
    let capacity = ZSTD_compressBound(source.count)
    return try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
      initialized = 0
      initialized = try workspace.compress(
        source, into: UnsafeMutableRawBufferPointer(buffer), level: policy.level,
        forcesLiteralCompression: policy.forcesLiteralCompression)
    }
  }

  /// Decodes stored bytes into exactly `rawByteCount` bytes at `destination`.
  ///
  /// Memory stays bounded by the destination's length whatever the stored bytes claim: every
  /// zstd frame's declared content size must equal the length it decodes into, and zstd never
  /// writes past its destination.
  ///
  /// - Throws: ``CheckpointError`` with `.invalidChunk` when the stored bytes do not decode to
  ///   exactly `destination.count` bytes under `codec`.
  static func decode(
    _ stored: UnsafeRawBufferPointer, codec: ChunkCodec,
    into destination: UnsafeMutableRawBufferPointer
  ) throws {
    switch codec {
    case .raw:
      guard stored.count == destination.count else {
        throw CheckpointError(
          .invalidChunk,
          "raw chunk holds \(stored.count) bytes but the manifest declares \(destination.count)")
      }
      destination.copyMemory(from: stored)
    case .zstd:
      try ZstdWorkspace.withBorrowed { try $0.decompress(stored, into: destination) }
    case .byteGroup2Zstd, .byteGroup4Zstd, .byteGroup8Zstd:
      let width = codec.groupWidth!
      try ZstdWorkspace.withBorrowed { workspace in
        try workspace.withScratch(byteCount: destination.count) { scratch in
          try workspace.decompress(stored, into: scratch)
          ByteGrouping.ungroup(UnsafeRawBufferPointer(scratch), into: destination, width: width)
        }
      }
    case .byteLanes2, .byteLanes4, .byteLanes8:
      try ZstdWorkspace.withBorrowed { workspace in
        try ByteLanes.decode(
          stored, width: codec.laneWidth!, into: destination, workspace: workspace)
      }
    }
  }
}
