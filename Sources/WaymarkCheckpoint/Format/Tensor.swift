/// A named training tensor's value: dtype, shape and the bytes of its elements in row-major
/// order.
///
/// `Tensor` is a value type that shares its storage until one side mutates it.
public struct Tensor: Sendable {
  /// Element type.
  public let dtype: DType

  /// Dimensions, outermost first; `[]` is a scalar and any zero makes the tensor empty.
  public let shape: [Int]

  /// Number of elements, the product of the shape.
  public let elementCount: Int

  private let storage: any TensorStorage

  /// Wraps `storage`, which must hold exactly the bytes that `dtype` and `shape` describe.
  ///
  /// - Throws: ``CheckpointError`` with code `.invalidTensor` when a dimension is negative,
  ///   the shape's product overflows, or the byte count does not match.
  public init(dtype: DType, shape: [Int], storage: some TensorStorage) throws {
    let elementCount = try Tensor.elementCount(of: shape)
    let (expected, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteWidth)
    guard !overflow else {
      throw CheckpointError(
        .invalidTensor, "shape \(shape) of \(dtype.rawValue) is too large to address")
    }
    let actual = storage.withUnsafeBytes(\.count)
    guard actual == expected else {
      throw CheckpointError(
        .invalidTensor,
        "shape \(shape) of \(dtype.rawValue) needs \(expected) bytes but the storage holds \(actual); pass a shape whose product matches the element count"
      )
    }
    if dtype == .bool {
      // A Swift `Bool` is undefined for bytes other than 0 and 1, so such bytes never get in.
      try storage.withUnsafeBytes { try Tensor.checkBoolBytes($0) }
    }
    self.dtype = dtype
    self.shape = shape
    self.elementCount = elementCount
    self.storage = storage
  }

  /// Throws `.invalidTensor` naming the first byte of `bytes` other than 0 and 1, the only
  /// bytes a `bool` element may have. `offset` is where `bytes` start within the tensor.
  static func checkBoolBytes(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) throws {
    guard let invalid = bytes.firstIndex(where: { $0 > 1 }) else { return }
    throw CheckpointError(
      .invalidTensor,
      "bool tensor has byte \(bytes[invalid]) at offset \(offset + invalid); bool elements are stored as 0 or 1"
    )
  }

  /// Returns the product of `shape`, rejecting negative dimensions and overflow.
  public static func elementCount(of shape: [Int]) throws -> Int {
    var product = 1
    for dimension in shape {
      guard dimension >= 0 else {
        throw CheckpointError(
          .invalidTensor, "shape \(shape) has a negative dimension \(dimension)")
      }
      let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
      guard !overflow else {
        throw CheckpointError(.invalidTensor, "shape \(shape) has more elements than Int can count")
      }
      product = next
    }
    return product
  }

  /// Number of bytes of the elements.
  public var byteCount: Int {
    elementCount * dtype.byteWidth
  }

  /// Calls `body` with the elements' bytes, little-endian.
  public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows
    -> Result
  {
    try storage.withUnsafeBytes(body)
  }

  /// A copy of the elements' bytes.
  public var bytes: [UInt8] {
    withUnsafeBytes { Array($0) }
  }

  /// Returns the elements as `type`, which must have the dtype's byte width.
  public func scalars<Scalar: BitwiseCopyable>(as type: Scalar.Type) throws -> [Scalar] {
    guard MemoryLayout<Scalar>.stride == dtype.byteWidth else {
      throw CheckpointError(
        .invalidTensor,
        "cannot read \(dtype.rawValue) elements as \(Scalar.self), whose size is \(MemoryLayout<Scalar>.stride) bytes"
      )
    }
    return withUnsafeBytes { raw in
      Array(unsafeUninitializedCapacity: elementCount) { buffer, initialized in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
        initialized = elementCount
      }
    }
  }
}

extension Tensor {
  /// Creates a tensor that shares `values`, with the dtype of its element type.
  public init<Element: TensorElement>(_ values: [Element], shape: [Int]) throws {
    try self.init(dtype: Element.dtype, shape: shape, storage: values)
  }

  /// Creates a tensor of any dtype from its raw little-endian bytes.
  public init(bytes: [UInt8], dtype: DType, shape: [Int]) throws {
    try self.init(dtype: dtype, shape: shape, storage: bytes)
  }

  /// Creates a 0-d tensor holding `value`.
  public init<Element: TensorElement>(scalar value: Element) {
    // A 0-d shape always matches one element, so this cannot fail.
    try! self.init(dtype: Element.dtype, shape: [], storage: [value])
  }
}

extension Tensor: Equatable {
  /// Compares dtype, shape and bytes, so NaN payloads compare bit for bit.
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    guard lhs.dtype == rhs.dtype, lhs.shape == rhs.shape else { return false }
    return lhs.withUnsafeBytes { left in
      rhs.withUnsafeBytes { right in left.elementsEqual(right) }
    }
  }
}
