/// How a chunk's raw bytes are turned into its stored bytes.
///
/// The manifest stores the raw value. `bytegroupN+zstd` first groups the bytes of N-byte
/// elements by position (every element's byte 0, then every byte 1, and so on), which puts
/// the slowly varying sign and exponent bytes of floats next to each other, then compresses
/// with zstd. `bytelanesN` groups the same way but stores each lane on its own, raw or as a
/// zstd frame, so lanes of random mantissa bits cost a copy instead of a compression attempt.
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
  /// Byte lanes of 2-byte elements, each stored raw or as its own zstd frame.
  case byteLanes2 = "bytelanes2"
  /// Byte lanes of 4-byte elements, each stored raw or as its own zstd frame.
  case byteLanes4 = "bytelanes4"
  /// Byte lanes of 8-byte elements, each stored raw or as its own zstd frame.
  case byteLanes8 = "bytelanes8"

  /// Element width the codec groups by before one zstd frame, or `nil` when it does not.
  var groupWidth: Int? {
    switch self {
    case .byteGroup2Zstd: 2
    case .byteGroup4Zstd: 4
    case .byteGroup8Zstd: 8
    case .raw, .zstd, .byteLanes2, .byteLanes4, .byteLanes8: nil
    }
  }

  /// Element width of a byte-lane codec, or `nil` for the others.
  var laneWidth: Int? {
    switch self {
    case .byteLanes2: 2
    case .byteLanes4: 4
    case .byteLanes8: 8
    case .raw, .zstd, .byteGroup2Zstd, .byteGroup4Zstd, .byteGroup8Zstd: nil
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

  /// Returns the byte-lane codec for elements of `width` bytes, or plain zstd for other widths.
  static func lanes(width: Int) -> ChunkCodec {
    switch width {
    case 2: .byteLanes2
    case 4: .byteLanes4
    case 8: .byteLanes8
    default: .zstd
    }
  }
}
