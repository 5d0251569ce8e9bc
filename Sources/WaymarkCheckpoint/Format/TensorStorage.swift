/// Contiguous memory that holds a tensor's elements.
///
/// Arrays of ``TensorElement`` values conform, so a ``Tensor`` made from `[Float]` keeps the
/// array itself: copy-on-write means handing it to ``CheckpointManager/save(step:state:metrics:)``
/// copies nothing, and the caller pays for one copy only if it mutates the array while the
/// save is still being written.
public protocol TensorStorage: Sendable {
  /// Calls `body` with the elements' bytes.
  func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

/// A scalar type whose values a tensor stores directly, with the dtype it maps to.
public protocol TensorElement: BitwiseCopyable, Sendable {
  /// The dtype of tensors made of this type.
  static var dtype: DType { get }
}

extension Array: TensorStorage where Element: TensorElement {}

extension ContiguousArray: TensorStorage where Element: TensorElement {}

extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension UInt64: TensorElement { public static var dtype: DType { .uint64 } }
extension UInt32: TensorElement { public static var dtype: DType { .uint32 } }
extension UInt16: TensorElement { public static var dtype: DType { .uint16 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }

#if !(os(macOS) && arch(x86_64))
  extension Float16: TensorElement { public static var dtype: DType { .float16 } }
#endif

/// A bfloat16 value: the upper 16 bits of an IEEE 754 single-precision float.
public struct BFloat16: TensorElement, Hashable {
  public static var dtype: DType { .bfloat16 }

  /// The raw 16 bits.
  public var bitPattern: UInt16

  public init(bitPattern: UInt16) {
    self.bitPattern = bitPattern
  }

  /// Rounds `value` to the nearest bfloat16, ties to even; NaN stays NaN.
  public init(_ value: Float) {
    let bits = value.bitPattern
    if value.isNaN {
      self.bitPattern = UInt16(truncatingIfNeeded: bits >> 16) | 0x0040
      return
    }
    let roundingBias = 0x7FFF + ((bits >> 16) & 1)
    self.bitPattern = UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
  }

  /// The value widened to `Float`, exactly.
  public var floatValue: Float {
    Float(bitPattern: UInt32(bitPattern) << 16)
  }
}
