import Synchronization
import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The real file system, except that `pwrite` and `fsync` fail with `EIO` while a switch is
/// on, so tests can break the disk at a chosen moment and repair it again.
final class FailingFileSystem: ForwardingFileSystem {
  let base: any FileSystem = PosixFileSystem()
  private let isFailing = Mutex(false)
  private let failedCallCount = Atomic(0)

  /// Number of calls that failed so far.
  var failures: Int { failedCallCount.load(ordering: .relaxed) }

  /// Makes writes and fsyncs fail (`true`) or succeed again (`false`).
  func setFailing(_ failing: Bool) {
    isFailing.withLock { $0 = failing }
  }

  private func failIfBroken(_ operation: String, _ path: String) throws {
    guard isFailing.withLock({ $0 }) else { return }
    failedCallCount.add(1, ordering: .relaxed)
    throw FileSystemError(operation: operation, path: path, errno: EIO)
  }

  func write(_ bytes: UnsafeRawBufferPointer, to file: FileDescriptor, at offset: Int64) throws {
    try failIfBroken("pwrite", "fd \(file.rawValue)")
    try base.write(bytes, to: file, at: offset)
  }

  func synchronize(_ file: FileDescriptor, path: String) throws {
    try failIfBroken("fsync", path)
    try base.synchronize(file, path: path)
  }

}
