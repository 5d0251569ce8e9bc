/// Memory for one loaded tensor, filled in parallel by chunk decoders and then read-only.
///
/// `@unchecked Sendable` is safe because decoders write disjoint byte ranges before the
/// buffer is published in a ``Tensor``, and nothing writes to it afterwards.
final class TensorBuffer: TensorStorage, @unchecked Sendable {
  let bytes: UnsafeMutableRawBufferPointer

  init(byteCount: Int) {
    // An empty tensor still gets one byte, so the buffer always has an address.
    bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
    self.byteCount = byteCount
  }

  private let byteCount: Int

  deinit {
    bytes.deallocate()
  }

  func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
  {
    try body(UnsafeRawBufferPointer(rebasing: bytes[0..<byteCount]))
  }

  /// Returns the writable bytes of one chunk's raw range.
  func slice(offset: Int, count: Int) -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
  }
}
