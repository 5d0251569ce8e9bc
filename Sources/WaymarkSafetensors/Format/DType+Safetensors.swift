public import WaymarkCheckpoint

extension DType {
  /// Creates the dtype that a safetensors header names, such as `F32` or `BF16`.
  ///
  /// Returns `nil` for names Waymark cannot store: the 8-bit float variants (`F8_E4M3`,
  /// `F8_E5M2` and others), complex types, and unknown names.
  public init?(safetensorsName: String) {
    switch safetensorsName {
    case "F64": self = .float64
    case "F32": self = .float32
    case "F16": self = .float16
    case "BF16": self = .bfloat16
    case "I64": self = .int64
    case "I32": self = .int32
    case "I16": self = .int16
    case "I8": self = .int8
    case "U64": self = .uint64
    case "U32": self = .uint32
    case "U16": self = .uint16
    case "U8": self = .uint8
    case "BOOL": self = .bool
    default: return nil
    }
  }

  /// The name a safetensors header uses for this dtype, such as `F32` or `BF16`.
  public var safetensorsName: String {
    switch self {
    case .float64: "F64"
    case .float32: "F32"
    case .float16: "F16"
    case .bfloat16: "BF16"
    case .int64: "I64"
    case .int32: "I32"
    case .int16: "I16"
    case .int8: "I8"
    case .uint64: "U64"
    case .uint32: "U32"
    case .uint16: "U16"
    case .uint8: "U8"
    case .bool: "BOOL"
    }
  }

  /// Position in the reference writer's dtype order, which it sorts tensors by, highest first.
  ///
  /// The order is that of the `Dtype` enum in the `safetensors` Rust crate
  /// (`safetensors/src/tensor.rs`): BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64,
  /// U64, with the dtypes Waymark does not store left out. Writing tensors in descending order puts the widest elements
  /// first, so every tensor's data starts at a multiple of its element size.
  var safetensorsWriteRank: Int {
    switch self {
    case .bool: 0
    case .uint8: 1
    case .int8: 2
    case .int16: 3
    case .uint16: 4
    case .float16: 5
    case .bfloat16: 6
    case .int32: 7
    case .uint32: 8
    case .float32: 9
    case .float64: 10
    case .int64: 11
    case .uint64: 12
    }
  }
}
