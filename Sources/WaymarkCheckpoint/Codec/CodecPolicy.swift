/// Which codec the writer uses for each chunk.
public struct CodecPolicy: Sendable, Hashable {
  enum Choice: Hashable {
    case raw
    case zstd
    case byteGroupedZstd
    case byteLanes
  }

  let choice: Choice

  /// zstd compression level; negative levels trade ratio for speed.
  public var level: Int32

  /// A chunk, or a byte lane of a chunk, is stored raw when compression saves less than this
  /// fraction of its size.
  public var minimumSavings: Double

  /// Store every chunk uncompressed.
  public static let raw = CodecPolicy(choice: .raw, level: 0, minimumSavings: 0)

  /// Plain zstd at `level` for every chunk, raw where it does not pay.
  public static func zstd(level: Int32 = 1, minimumSavings: Double = 0.02) -> CodecPolicy {
    CodecPolicy(choice: .zstd, level: level, minimumSavings: minimumSavings)
  }

  /// Byte grouping by the dtype's width, then zstd at `level`, raw where it does not pay.
  public static func byteGroupedZstd(level: Int32 = 1, minimumSavings: Double = 0.02)
    -> CodecPolicy
  {
    CodecPolicy(choice: .byteGroupedZstd, level: level, minimumSavings: minimumSavings)
  }

  /// Byte lanes by the dtype's width: each lane that zstd shrinks by `minimumSavings` is
  /// compressed at `level` with Huffman-coded literals, every other lane is copied raw.
  ///
  /// One-byte dtypes get plain zstd with the same settings. At negative levels zstd normally
  /// stops Huffman-coding literals, and this policy keeps it on. The exponent lane of a float
  /// tensor has few repeats and a skewed histogram, so nearly all its savings come from the
  /// Huffman stage. Forcing it uses an experimental zstd setting that Waymark trusts only in
  /// zstd 1.5.x; with another version, lanes are compressed at `max(level, 1)` instead.
  public static func byteLanes(level: Int32 = -1000, minimumSavings: Double = 0.02)
    -> CodecPolicy
  {
    CodecPolicy(choice: .byteLanes, level: level, minimumSavings: minimumSavings)
  }

  /// The default: byte lanes at zstd level -1000 with Huffman-coded literals.
  ///
  /// BENCHMARKS.md shows the measurement behind the choice: on float weights and Adam moments
  /// it stores as few bytes as byte-grouped zstd at level 1 and encodes faster.
  public static let `default` = CodecPolicy.byteLanes()

  /// Whether zstd frames keep Huffman-coded literals at negative levels.
  var forcesLiteralCompression: Bool {
    choice == .byteLanes
  }

  /// The codec to try first for a chunk of `dtype`.
  func preferredCodec(for dtype: DType) -> ChunkCodec {
    switch choice {
    case .raw: .raw
    case .zstd: .zstd
    case .byteGroupedZstd: ChunkCodec.grouping(width: dtype.byteWidth)
    case .byteLanes: ChunkCodec.lanes(width: dtype.byteWidth)
    }
  }
}
