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

  /// Encodes `raw` with the policy's codec, falling back to raw storage when compression
  /// saves less than the policy's minimum.
  static func encode(_ raw: UnsafeRawBufferPointer, dtype: DType, policy: CodecPolicy) throws -> EncodedChunk {
    let codec = policy.preferredCodec(for: dtype)
    if codec != .raw, raw.count > 0 {
      let compressed = try compress(raw, codec: codec, level: policy.level)
      let limit = Double(raw.count) * (1 - policy.minimumSavings)
      if Double(compressed.count) <= limit {
        return EncodedChunk(stored: compressed, codec: codec, checksum: compressed.withUnsafeBytes(XXH3.hash))
      }
    }
    let stored = Array(raw)
    return EncodedChunk(stored: stored, codec: .raw, checksum: XXH3.hash(raw))
  }

  private static func compress(_ raw: UnsafeRawBufferPointer, codec: ChunkCodec, level: Int32) throws -> [UInt8] {
    guard let width = codec.groupWidth else {
      return try zstdCompress(raw, level: level)
    }
    let grouped = [UInt8](unsafeUninitializedCapacity: raw.count) { buffer, initialized in
      ByteGrouping.group(raw, into: UnsafeMutableRawBufferPointer(buffer), width: width)
      initialized = raw.count
    }
    return try grouped.withUnsafeBytes { try zstdCompress($0, level: level) }
  }

  private static func zstdCompress(_ raw: UnsafeRawBufferPointer, level: Int32) throws -> [UInt8] {
    guard let context = ZSTD_createCCtx() else {
      throw CheckpointError(.io, "zstd could not allocate a compression context")
    }
    defer { ZSTD_freeCCtx(context) }
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
    ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)

    let capacity = ZSTD_compressBound(raw.count)
    var failure: String?
    let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
      let result = ZSTD_compress2(context, buffer.baseAddress, capacity, raw.baseAddress, raw.count)
      if ZSTD_isError(result) != 0 {
        failure = String(cString: ZSTD_getErrorName(result))
        initialized = 0
      } else {
        initialized = result
      }
    }
    if let failure {
      throw CheckpointError(.io, "zstd compression failed: \(failure)")
    }
    return output
  }

  /// Decodes stored bytes into exactly `rawByteCount` bytes at `destination`.
  ///
  /// Memory stays bounded by `rawByteCount` whatever the frame claims: the frame's declared
  /// content size must equal it, and zstd never writes past the destination.
  static func decode(
    _ stored: UnsafeRawBufferPointer, codec: ChunkCodec, into destination: UnsafeMutableRawBufferPointer
  ) throws {
    switch codec {
    case .raw:
      guard stored.count == destination.count else {
        throw CheckpointError(
          .invalidChunk, "raw chunk holds \(stored.count) bytes but the manifest declares \(destination.count)")
      }
      destination.copyMemory(from: stored)
    case .zstd:
      try zstdDecompress(stored, into: destination)
    case .byteGroup2Zstd, .byteGroup4Zstd, .byteGroup8Zstd:
      let grouped = [UInt8](unsafeUninitializedCapacity: destination.count) { buffer, initialized in
        initialized = 0
        do {
          try zstdDecompress(stored, into: UnsafeMutableRawBufferPointer(buffer))
          initialized = destination.count
        } catch {}
      }
      guard grouped.count == destination.count else {
        try zstdDecompress(stored, into: destination)
        return
      }
      grouped.withUnsafeBytes { ByteGrouping.ungroup($0, into: destination, width: codec.groupWidth!) }
    }
  }

  private static func zstdDecompress(_ stored: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws {
    let declared = ZSTD_getFrameContentSize(stored.baseAddress, stored.count)
    if declared == ZSTD_CONTENTSIZE_ERROR {
      throw CheckpointError(.invalidChunk, "chunk is not a valid zstd frame")
    }
    guard declared == UInt64(destination.count) else {
      let shown = declared == ZSTD_CONTENTSIZE_UNKNOWN ? "an unknown size" : "\(declared) bytes"
      throw CheckpointError(
        .invalidChunk, "zstd frame declares \(shown) but the manifest declares \(destination.count)")
    }
    guard let context = ZSTD_createDCtx() else {
      throw CheckpointError(.io, "zstd could not allocate a decompression context")
    }
    defer { ZSTD_freeDCtx(context) }
    let result = ZSTD_decompressDCtx(
      context, destination.baseAddress, destination.count, stored.baseAddress, stored.count)
    if ZSTD_isError(result) != 0 {
      throw CheckpointError(.invalidChunk, "zstd decompression failed: \(String(cString: ZSTD_getErrorName(result)))")
    }
    guard result == destination.count else {
      throw CheckpointError(
        .invalidChunk, "zstd frame decoded to \(result) bytes but the manifest declares \(destination.count)")
    }
  }
}
