import CZstd
import Synchronization

/// One thread's zstd contexts and scratch memory, reused across chunks.
///
/// Creating a zstd context and touching fresh pages for every chunk costs more than encoding a
/// small chunk, so the codecs borrow a workspace from ``ZstdWorkspace/withBorrowed(_:)`` and
/// give it back when the chunk is done.
///
/// `@unchecked Sendable` is safe because a workspace is used by one thread at a time: the
/// cache hands each workspace to exactly one borrower and takes it back before anyone else can
/// borrow it.
final class ZstdWorkspace: @unchecked Sendable {
  /// Largest scratch buffer a workspace keeps between chunks: 64 MiB. Larger requests get a
  /// buffer that is freed after the chunk.
  static let maxRetainedScratchByteCount = 64 << 20

  /// Workspaces kept for reuse; more than this many idle ones are freed.
  private static let maxIdleCount = 64

  private static let idle = Mutex<[ZstdWorkspace]>([])

  /// Whether the loaded zstd numbers its experimental parameters like the 1.5.4 header read
  /// for this code, where `ZSTD_c_experimentalParam5` (1002) is `ZSTD_c_literalCompressionMode`
  /// and 1 is `ZSTD_ps_enable`.
  ///
  /// NOTE: experimental parameter numbers may change between zstd versions. This trusts every
  /// 1.5.x release to keep the 1.5.4 numbering; only 1.5.4 has been tested.
  static let knowsLiteralCompressionMode = (10_500..<10_600).contains(ZSTD_versionNumber())

  private var compressionContext: OpaquePointer?
  private var decompressionContext: OpaquePointer?
  private var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)

  private init() {}

  deinit {
    ZSTD_freeCCtx(compressionContext)
    ZSTD_freeDCtx(decompressionContext)
    scratch.deallocate()
  }

  /// Runs `body` with a workspace that no other thread uses until `body` returns.
  static func withBorrowed<Result>(_ body: (ZstdWorkspace) throws -> Result) rethrows -> Result {
    let workspace = idle.withLock { $0.popLast() } ?? ZstdWorkspace()
    defer {
      // A workspace that is not kept is freed when this scope releases it.
      idle.withLock { workspaces in
        if workspaces.count < maxIdleCount { workspaces.append(workspace) }
      }
    }
    return try body(workspace)
  }

  /// Runs `body` with at least `byteCount` bytes of uninitialized scratch memory, aligned to
  /// 64 bytes and with an address even when `byteCount` is 0. The memory is valid only inside
  /// `body`.
  func withScratch<Result>(
    byteCount: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> Result
  ) rethrows -> Result {
    if byteCount > Self.maxRetainedScratchByteCount {
      let temporary = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 64)
      defer { temporary.deallocate() }
      return try body(temporary)
    }
    // Even an empty request gets an address, because the codecs form lane pointers from it.
    if scratch.baseAddress == nil || scratch.count < byteCount {
      scratch.deallocate()
      scratch = .allocate(byteCount: max(byteCount, 64), alignment: 64)
    }
    return try body(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<byteCount]))
  }

  /// Compresses `source` into one zstd frame at `destination` and returns the frame's length.
  ///
  /// The frame declares its content size and carries zstd's content checksum.
  ///
  /// - Parameters:
  ///   - level: zstd compression level; negative levels trade ratio for speed.
  ///   - forcesLiteralCompression: Huffman-code literals even at negative levels, where zstd
  ///     otherwise stores them raw. This keeps most of the ratio on data that has few repeats
  ///     but a skewed byte histogram, such as the exponent bytes of floats.
  ///   - destination: At least `ZSTD_compressBound(source.count)` bytes.
  /// - Throws: ``CheckpointError`` with `.io` when zstd cannot allocate or compress.
  func compress(
    _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, level: Int32,
    forcesLiteralCompression: Bool
  ) throws -> Int {
    let context = try borrowCompressionContext()
    ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters)
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
    ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
    if forcesLiteralCompression {
      if Self.knowsLiteralCompressionMode {
        ZSTD_CCtx_setParameter(context, ZSTD_c_experimentalParam5, 1)
      } else {
        // Without Huffman-coded literals, negative levels save almost nothing on float
        // exponent bytes, so fall back to the fastest level that keeps them.
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, max(level, 1))
      }
    }
    let result = ZSTD_compress2(
      context, destination.baseAddress, destination.count, source.baseAddress, source.count)
    if ZSTD_isError(result) != 0 {
      throw CheckpointError(
        .io, "zstd compression failed: \(String(cString: ZSTD_getErrorName(result)))")
    }
    return result
  }

  /// Decompresses the single zstd frame `stored` into exactly `destination.count` bytes.
  ///
  /// Memory stays bounded by `destination.count` whatever the frame claims: the frame's
  /// declared content size must equal it, and zstd never writes past the destination.
  ///
  /// - Throws: ``CheckpointError`` with `.invalidChunk` when the frame is invalid, declares
  ///   another size, fails zstd's content checksum or decodes to another length.
  func decompress(_ stored: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer)
    throws
  {
    let declared = ZSTD_getFrameContentSize(stored.baseAddress, stored.count)
    if declared == ZSTD_CONTENTSIZE_ERROR {
      throw CheckpointError(.invalidChunk, "chunk is not a valid zstd frame")
    }
    guard declared == UInt64(destination.count) else {
      let shown = declared == ZSTD_CONTENTSIZE_UNKNOWN ? "an unknown size" : "\(declared) bytes"
      throw CheckpointError(
        .invalidChunk,
        "zstd frame declares \(shown) but the manifest declares \(destination.count)")
    }
    // zstd would go on to decode frames after the first one, even empty ones that leave the
    // length unchanged, so the stored bytes must end where the first frame ends.
    let frameByteCount = ZSTD_findFrameCompressedSize(stored.baseAddress, stored.count)
    guard ZSTD_isError(frameByteCount) == 0, frameByteCount == stored.count else {
      throw CheckpointError(
        .invalidChunk,
        "stored bytes are not exactly one zstd frame: \(stored.count) bytes, first frame \(ZSTD_isError(frameByteCount) != 0 ? "unreadable" : "\(frameByteCount) bytes")"
      )
    }
    let context = try borrowDecompressionContext()
    let result = ZSTD_decompressDCtx(
      context, destination.baseAddress, destination.count, stored.baseAddress, stored.count)
    if ZSTD_isError(result) != 0 {
      // A failed frame can leave the context mid-stream; start the next one from scratch.
      ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
      throw CheckpointError(
        .invalidChunk,
        "zstd decompression failed: \(String(cString: ZSTD_getErrorName(result)))")
    }
    guard result == destination.count else {
      throw CheckpointError(
        .invalidChunk,
        "zstd frame decoded to \(result) bytes but the manifest declares \(destination.count)")
    }
  }

  private func borrowCompressionContext() throws -> OpaquePointer {
    if let compressionContext { return compressionContext }
    guard let context = ZSTD_createCCtx() else {
      throw CheckpointError(.io, "zstd could not allocate a compression context")
    }
    compressionContext = context
    return context
  }

  private func borrowDecompressionContext() throws -> OpaquePointer {
    if let decompressionContext { return decompressionContext }
    guard let context = ZSTD_createDCtx() else {
      throw CheckpointError(.io, "zstd could not allocate a decompression context")
    }
    decompressionContext = context
    return context
  }
}
