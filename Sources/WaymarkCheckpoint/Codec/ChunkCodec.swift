/// How a chunk's raw bytes are turned into its stored bytes.
///
/// The manifest stores the raw value. `bytegroupN+zstd` first groups the bytes of N-byte
/// elements by position (every element's byte 0, then every byte 1, and so on), which puts
/// the slowly varying sign and exponent bytes of floats next to each other, then compresses
/// with zstd.
public enum ChunkCodec: String, Codable, Sendable, Hashable, CaseIterable {
  /// Stored bytes are the raw bytes.
  case raw
  /// One zstd frame.
  case zstd
  /// Byte grouping for 2-byte elements, then one zstd frame.
  case byteGroup2Zstd = "bytegroup2+zstd"
  /// Byte grouping for 4-byte elements, then one zstd frame.
  case byteGroup4Zstd = "bytegroup4+zstd"
  /// Byte grouping for 8-byte elements, then one zstd frame.
  case byteGroup8Zstd = "bytegroup8+zstd"

  /// Element width the codec groups by, or `nil` when it does not group.
  var groupWidth: Int? {
    switch self {
    case .raw, .zstd: nil
    case .byteGroup2Zstd: 2
    case .byteGroup4Zstd: 4
    case .byteGroup8Zstd: 8
    }
  }

  /// The grouping codec for elements of `width` bytes, or plain zstd for other widths.
  static func grouping(width: Int) -> ChunkCodec {
    switch width {
    case 2: .byteGroup2Zstd
    case 4: .byteGroup4Zstd
    case 8: .byteGroup8Zstd
    default: .zstd
    }
  }
}

/// Which codec the writer uses for each chunk.
public struct CodecPolicy: Sendable, Hashable {
  enum Choice: Hashable {
    case raw
    case zstd
    case byteGroupedZstd
  }

  let choice: Choice

  /// zstd compression level; negative levels trade ratio for speed.
  public var level: Int32

  /// A chunk is stored raw when compression saves less than this fraction of its size.
  public var minimumSavings: Double

  /// Store every chunk uncompressed.
  public static let raw = CodecPolicy(choice: .raw, level: 0, minimumSavings: 0)

  /// Plain zstd at `level` for every chunk, raw where it does not pay.
  public static func zstd(level: Int32 = 1, minimumSavings: Double = 0.02) -> CodecPolicy {
    CodecPolicy(choice: .zstd, level: level, minimumSavings: minimumSavings)
  }

  /// Byte grouping by the dtype's width, then zstd at `level`, raw where it does not pay.
  public static func byteGroupedZstd(level: Int32 = 1, minimumSavings: Double = 0.02) -> CodecPolicy {
    CodecPolicy(choice: .byteGroupedZstd, level: level, minimumSavings: minimumSavings)
  }

  /// The default: byte-grouped zstd at level 1.
  public static let `default` = CodecPolicy.byteGroupedZstd()

  /// The codec to try first for a chunk of `dtype`.
  func preferredCodec(for dtype: DType) -> ChunkCodec {
    switch choice {
    case .raw: .raw
    case .zstd: .zstd
    case .byteGroupedZstd: dtype.byteWidth > 1 ? ChunkCodec.grouping(width: dtype.byteWidth) : .zstd
    }
  }
}
