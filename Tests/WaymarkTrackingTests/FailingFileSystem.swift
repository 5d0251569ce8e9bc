import Synchronization
import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The real file system, except that `pwrite` and `fsync` fail with `EIO` while a switch is
/// on, so tests can break the disk at a chosen moment and repair it again.
final class FailingFileSystem: FileSystem {
  private let real = PosixFileSystem()
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

  func createDirectory(at path: String) throws { try real.createDirectory(at: path) }
  func createFile(at path: String) throws -> FileDescriptor { try real.createFile(at: path) }
  func openForReading(at path: String) throws -> FileDescriptor {
    try real.openForReading(at: path)
  }

  func write(_ bytes: UnsafeRawBufferPointer, to file: FileDescriptor, at offset: Int64) throws {
    try failIfBroken("pwrite", "fd \(file.rawValue)")
    try real.write(bytes, to: file, at: offset)
  }

  func read(into buffer: UnsafeMutableRawBufferPointer, from file: FileDescriptor, at offset: Int64)
    throws -> Int
  {
    try real.read(into: buffer, from: file, at: offset)
  }

  func synchronize(_ file: FileDescriptor, path: String) throws {
    try failIfBroken("fsync", path)
    try real.synchronize(file, path: path)
  }

  func close(_ file: FileDescriptor, path: String) throws { try real.close(file, path: path) }
  func synchronizeDirectory(at path: String) throws { try real.synchronizeDirectory(at: path) }
  func rename(from source: String, to destination: String) throws {
    try real.rename(from: source, to: destination)
  }
  func removeFile(at path: String) throws { try real.removeFile(at: path) }
  func removeDirectory(at path: String) throws { try real.removeDirectory(at: path) }
  func contentsOfDirectory(at path: String) throws -> [DirectoryEntry] {
    try real.contentsOfDirectory(at: path)
  }
  func status(at path: String) throws -> FileStatus { try real.status(at: path) }
}
