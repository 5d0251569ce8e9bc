#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed file-system call, with the operation, the path and the `errno` it returned.
public struct FileSystemError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The call that failed, such as `fsync` or `rename`.
  public var operation: String

  /// The path the call worked on.
  public var path: String

  /// The `errno` value the call set.
  public var errno: Int32

  public init(operation: String, path: String, errno: Int32) {
    self.operation = operation
    self.path = path
    self.errno = errno
  }

  /// Whether the failure means the disk or the quota is full.
  public var isOutOfSpace: Bool {
    errno == ENOSPC || errno == EDQUOT
  }

  public var description: String {
    let reason = String(cString: strerror(errno))
    var text = "\(operation) failed for '\(path)': \(reason) (errno \(errno))"
    if isOutOfSpace {
      text += "; free disk space or choose another directory, then retry"
    }
    return text
  }
}
