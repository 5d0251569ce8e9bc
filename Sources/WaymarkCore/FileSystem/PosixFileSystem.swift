import CSystemShims

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The real file system, through POSIX calls; `EINTR` is retried in one place.
public struct PosixFileSystem: FileSystem {
  public init() {}

  public func createDirectory(at path: String) throws {
    try check("mkdir", path) { mkdir(path, 0o755) }
  }

  public func createFile(at path: String) throws -> FileDescriptor {
    let flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW
    let fd = try check("open", path) { open(path, flags, 0o644) }
    return FileDescriptor(rawValue: fd)
  }

  public func openForReading(at path: String) throws -> FileDescriptor {
    let fd = try check("open", path) { open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
    return FileDescriptor(rawValue: fd)
  }

  public func write(_ bytes: UnsafeRawBufferPointer, to file: FileDescriptor, at offset: Int64)
    throws
  {
    var written = 0
    while written < bytes.count {
      let remaining = UnsafeRawBufferPointer(rebasing: bytes[written...])
      let count = try check("pwrite", "fd \(file.rawValue)") {
        pwrite(
          file.rawValue, remaining.baseAddress, remaining.count, off_t(offset) + off_t(written))
      }
      written += count
    }
  }

  public func read(
    into buffer: UnsafeMutableRawBufferPointer, from file: FileDescriptor, at offset: Int64
  ) throws -> Int {
    var total = 0
    while total < buffer.count {
      let remaining = UnsafeMutableRawBufferPointer(rebasing: buffer[total...])
      let count = try check("pread", "fd \(file.rawValue)") {
        pread(file.rawValue, remaining.baseAddress, remaining.count, off_t(offset) + off_t(total))
      }
      if count == 0 { break }
      total += count
    }
    return total
  }

  /// Starts writeback with `sync_file_range(SYNC_FILE_RANGE_WRITE)` on Linux; failures are
  /// ignored because the later `fsync` reports any real error.
  public func startWriteback(_ file: FileDescriptor, offset: Int64, byteCount: Int64) {
    _ = waymark_start_writeback(file.rawValue, offset, byteCount)
  }

  public func prefetch(_ file: FileDescriptor, offset: Int64, byteCount: Int64) {
    #if os(Linux)
      _ = posix_fadvise(file.rawValue, off_t(offset), off_t(byteCount), POSIX_FADV_WILLNEED)
    #endif
  }

  public func synchronize(_ file: FileDescriptor, path: String) throws {
    try check("fsync", path) { flushToStableStorage(file.rawValue) }
  }

  public func close(_ file: FileDescriptor, path: String) throws {
    // A close interrupted by a signal must not be retried: the descriptor may already
    // be reused by another thread.
    if systemClose(file.rawValue) != 0, errno != EINTR {
      throw FileSystemError(operation: "close", path: path, errno: errno)
    }
  }

  public func synchronizeDirectory(at path: String) throws {
    let fd = try check("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    defer { _ = systemClose(fd) }
    try check("fsync", path) { flushToStableStorage(fd) }
  }

  public func rename(from source: String, to destination: String) throws {
    try check("rename", "\(source)' to '\(destination)") { systemRename(source, destination) }
  }

  public func removeFile(at path: String) throws {
    try check("unlink", path) { unlink(path) }
  }

  public func removeDirectory(at path: String) throws {
    try check("rmdir", path) { rmdir(path) }
  }

  public func contentsOfDirectory(at path: String) throws -> [DirectoryEntry] {
    guard let directory = opendir(path) else {
      throw FileSystemError(operation: "opendir", path: path, errno: errno)
    }
    defer { closedir(directory) }

    var entries: [DirectoryEntry] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
      }
      if name == "." || name == ".." { continue }
      let kind = (try? status(at: path + "/" + name).kind) ?? .other
      entries.append(DirectoryEntry(name: name, kind: kind))
    }
    return entries.sorted { $0.name < $1.name }
  }

  public func status(at path: String) throws -> FileStatus {
    var info = stat()
    try check("lstat", path) { lstat(path, &info) }
    let kind: FileKind
    switch info.st_mode & S_IFMT {
    case S_IFREG: kind = .regular
    case S_IFDIR: kind = .directory
    case S_IFLNK: kind = .symbolicLink
    default: kind = .other
    }
    return FileStatus(kind: kind, byteCount: Int64(info.st_size))
  }

  @discardableResult
  private func check<T: BinaryInteger>(_ operation: String, _ path: String, _ call: () -> T) throws
    -> T
  {
    while true {
      let result = call()
      if result >= 0 { return result }
      if errno == EINTR { continue }
      throw FileSystemError(operation: operation, path: path, errno: errno)
    }
  }
}

private func systemClose(_ fd: Int32) -> Int32 {
  #if canImport(Glibc)
    Glibc.close(fd)
  #else
    Darwin.close(fd)
  #endif
}

private func systemRename(_ source: String, _ destination: String) -> Int32 {
  #if canImport(Glibc)
    Glibc.rename(source, destination)
  #else
    Darwin.rename(source, destination)
  #endif
}

/// Flushes a descriptor to stable storage. On Darwin, `fsync` only reaches the drive's cache,
/// so `F_FULLFSYNC` is used instead.
private func flushToStableStorage(_ fd: Int32) -> Int32 {
  #if canImport(Darwin)
    fcntl(fd, F_FULLFSYNC)
  #else
    fsync(fd)
  #endif
}
