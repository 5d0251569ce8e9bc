import Foundation

/// Memory for one loaded tensor, filled in parallel by chunk decoders and then read-only.
///
/// `@unchecked Sendable` is safe because decoders write disjoint byte ranges before the
/// buffer is published in a ``Tensor``, and nothing writes to it afterwards.
final class TensorBuffer: TensorStorage, @unchecked Sendable {
  let bytes: UnsafeMutableRawBufferPointer

  /// Allocates `byteCount` bytes, aligned to 64.
  ///
  /// - Throws: ``CheckpointError`` with `.outOfMemory` when the allocation fails, where
  ///   `UnsafeMutableRawBufferPointer.allocate` would stop the process.
  init(byteCount: Int) throws {
    // An empty tensor still gets one byte, so the buffer always has an address.
    var address: UnsafeMutableRawPointer?
    guard posix_memalign(&address, 64, max(byteCount, 1)) == 0, let address else {
      throw CheckpointError(
        .outOfMemory,
        "cannot allocate \(byteCount) bytes; load the checkpoint on a machine with more memory, or check the manifest, which may declare a size the checkpoint never held"
      )
    }
    bytes = UnsafeMutableRawBufferPointer(start: address, count: max(byteCount, 1))
    self.byteCount = byteCount
  }

  private let byteCount: Int

  deinit {
    free(bytes.baseAddress)
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
