/// The element type of a tensor.
///
/// Raw values are the names the manifest stores. Every multi-byte type is little-endian
/// on disk.
public enum DType: String, Sendable, Hashable, Codable, CaseIterable {
  case float64 = "f64"
  case float32 = "f32"
  case float16 = "f16"
  case bfloat16 = "bf16"
  case int64 = "i64"
  case int32 = "i32"
  case int16 = "i16"
  case int8 = "i8"
  case uint64 = "u64"
  case uint32 = "u32"
  case uint16 = "u16"
  case uint8 = "u8"
  case bool = "bool"

  /// Bytes per element.
  public var byteWidth: Int {
    switch self {
    case .float64, .int64, .uint64: 8
    case .float32, .int32, .uint32: 4
    case .float16, .bfloat16, .int16, .uint16: 2
    case .int8, .uint8, .bool: 1
    }
  }

  /// Whether elements are floating-point numbers.
  public var isFloatingPoint: Bool {
    switch self {
    case .float64, .float32, .float16, .bfloat16: true
    default: false
    }
  }
}
