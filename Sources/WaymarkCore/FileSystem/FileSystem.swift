#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An open file, as the raw descriptor number the operating system returned.
public struct FileDescriptor: Sendable, Hashable {
  public let rawValue: Int32

  public init(rawValue: Int32) {
    self.rawValue = rawValue
  }
}

/// Kind of object a directory entry or a path refers to.
public enum FileKind: Sendable, Hashable, CustomStringConvertible {
  case regular
  case directory
  case symbolicLink
  case other

  /// The kind in words for messages: "regular file", "directory", "symbolic link" or
  /// "special file".
  public var description: String {
    switch self {
    case .regular: "regular file"
    case .directory: "directory"
    case .symbolicLink: "symbolic link"
    case .other: "special file"
    }
  }
}

/// The facts about one path that readers and recovery need.
public struct FileStatus: Sendable, Hashable {
  public var kind: FileKind
  public var byteCount: Int64

  public init(kind: FileKind, byteCount: Int64) {
    self.kind = kind
    self.byteCount = byteCount
  }
}

/// One name inside a directory.
public struct DirectoryEntry: Sendable, Hashable {
  public var name: String
  public var kind: FileKind

  public init(name: String, kind: FileKind) {
    self.name = name
    self.kind = kind
  }
}

/// The narrow set of blocking file operations that the checkpoint writer, retention and
/// recovery use.
///
/// Every call blocks, so callers run them on a ``BlockingThreadPool``. Routing all of them
/// through this protocol lets tests fail the k-th operation or simulate a power loss.
/// Each method throws ``FileSystemError``.
public protocol FileSystem: Sendable {
  /// Creates a directory (`mkdir`); fails if the path exists.
  func createDirectory(at path: String) throws

  /// Creates a new file for writing (`open` with `O_CREAT | O_EXCL`); fails if it exists.
  func createFile(at path: String) throws -> FileDescriptor

  /// Opens an existing file for reading without following a final symbolic link.
  func openForReading(at path: String) throws -> FileDescriptor

  /// Writes all of `bytes` at `offset` (`pwrite`, retried until complete).
  func write(_ bytes: UnsafeRawBufferPointer, to file: FileDescriptor, at offset: Int64) throws

  /// Reads up to `buffer.count` bytes at `offset` (`pread`, retried until full or end of file)
  /// and returns how many were read.
  func read(into buffer: UnsafeMutableRawBufferPointer, from file: FileDescriptor, at offset: Int64)
    throws -> Int

  /// Hints that the kernel may start writing back a byte range now; see the extension.
  func startWriteback(_ file: FileDescriptor, offset: Int64, byteCount: Int64)

  /// Hints that a byte range will be read soon; see the extension.
  func prefetch(_ file: FileDescriptor, offset: Int64, byteCount: Int64)

  /// Flushes a file's data and metadata to stable storage (`fsync`).
  func synchronize(_ file: FileDescriptor, path: String) throws

  /// Closes a file descriptor.
  func close(_ file: FileDescriptor, path: String) throws

  /// Flushes a directory's entries to stable storage (open the directory, `fsync`, close).
  func synchronizeDirectory(at path: String) throws

  /// Renames `source` to `destination` atomically (`rename`).
  func rename(from source: String, to destination: String) throws

  /// Removes a file or a symbolic link (`unlink`).
  func removeFile(at path: String) throws

  /// Removes an empty directory (`rmdir`).
  func removeDirectory(at path: String) throws

  /// Lists a directory's entries, without `.` and `..`.
  func contentsOfDirectory(at path: String) throws -> [DirectoryEntry]

  /// Returns the status of `path` without following a final symbolic link (`lstat`).
  func status(at path: String) throws -> FileStatus
}

extension FileSystem {
  /// Hints that the kernel may start writing back `byteCount` bytes at `offset`, so a later
  /// `fsync` has less to wait for. Promises no durability; the default does nothing.
  public func startWriteback(_ file: FileDescriptor, offset: Int64, byteCount: Int64) {}

  /// Hints that `byteCount` bytes at `offset` will be read soon, so the kernel can start
  /// reading them into its cache while earlier bytes are decoded. The default does nothing.
  public func prefetch(_ file: FileDescriptor, offset: Int64, byteCount: Int64) {}

  /// Returns whether `path` exists, without following a final symbolic link.
  public func exists(at path: String) -> Bool {
    (try? status(at: path)) != nil
  }

  /// Removes a directory tree bottom-up, never following symbolic links.
  public func removeTree(at path: String) throws {
    let entries = try contentsOfDirectory(at: path)
    for entry in entries {
      let child = path + "/" + entry.name
      if entry.kind == .directory {
        try removeTree(at: child)
      } else {
        try removeFile(at: child)
      }
    }
    try removeDirectory(at: path)
  }

  /// Reads a whole small file into memory, rejecting files larger than `maxByteCount`.
  public func readWholeFile(at path: String, maxByteCount: Int) throws -> [UInt8] {
    let fileStatus = try status(at: path)
    guard fileStatus.kind == .regular else {
      throw FileSystemError(operation: "open", path: path, errno: EINVAL)
    }
    guard fileStatus.byteCount <= Int64(maxByteCount) else {
      throw FileSystemError(operation: "read", path: path, errno: EFBIG)
    }
    let file = try openForReading(at: path)
    defer { try? close(file, path: path) }
    var bytes = [UInt8](repeating: 0, count: Int(fileStatus.byteCount))
    let count = try bytes.withUnsafeMutableBytes { buffer in
      try read(into: buffer, from: file, at: 0)
    }
    bytes.removeSubrange(count...)
    return bytes
  }

  /// Writes `bytes` to a new file and fsyncs it before closing.
  public func writeNewFile(at path: String, bytes: [UInt8]) throws {
    let file = try createFile(at: path)
    do {
      try bytes.withUnsafeBytes { buffer in
        try write(buffer, to: file, at: 0)
      }
      try synchronize(file, path: path)
    } catch {
      try? close(file, path: path)
      throw error
    }
    try close(file, path: path)
  }
}
