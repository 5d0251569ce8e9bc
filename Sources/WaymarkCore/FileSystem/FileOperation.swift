/// A file-system call that changes what is on disk or makes it durable.
///
/// ``FaultInjectingFileSystem`` and ``PowerLossFileSystem`` count these calls to pick the one
/// that fails. Reads, listings, `lstat` and `close` change nothing on disk and are not counted.
public enum FileOperation: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// ``FileSystem/createDirectory(at:)`` (`mkdir`).
  case createDirectory = "mkdir"
  /// ``FileSystem/createFile(at:)`` (`open` with `O_CREAT | O_EXCL`).
  case createFile = "create"
  /// ``FileSystem/write(_:to:at:)`` (`pwrite`).
  case write = "pwrite"
  /// ``FileSystem/synchronize(_:path:)`` (`fsync` of a file).
  case synchronize = "fsync"
  /// ``FileSystem/synchronizeDirectory(at:)`` (`fsync` of a directory).
  case synchronizeDirectory = "fsync-directory"
  /// ``FileSystem/rename(from:to:)`` (`rename`).
  case rename = "rename"
  /// ``FileSystem/removeFile(at:)`` (`unlink`).
  case removeFile = "unlink"
  /// ``FileSystem/removeDirectory(at:)`` (`rmdir`).
  case removeDirectory = "rmdir"

  public var description: String { rawValue }
}

/// One counted file operation: its kind, the path it worked on and its 1-based number.
public struct FileOperationRecord: Sendable, Hashable, CustomStringConvertible {
  /// Position among the counted operations, from 1.
  public var number: Int
  /// The kind of call.
  public var operation: FileOperation
  /// The path the call worked on; for `rename`, the source and the destination.
  public var path: String

  public init(number: Int, operation: FileOperation, path: String) {
    self.number = number
    self.operation = operation
    self.path = path
  }

  public var description: String {
    "#\(number) \(operation) \(path)"
  }
}
