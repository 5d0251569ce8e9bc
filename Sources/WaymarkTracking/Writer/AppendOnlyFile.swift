import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file the run only appends to, such as `metrics.jsonl`, written at a tracked offset.
///
/// Each append is a `pwrite` at the end offset the file had after the last successful
/// append. A failed append therefore leaves the offset unchanged, and retrying it rewrites
/// the same bytes at the same place instead of tearing a line. Opening truncates the file
/// to the length the caller says is complete, which drops a torn tail left by a crash.
/// Writes, fsyncs and closes go through the ``FileSystem`` seam. `FileSystem` has no call
/// that opens an existing file for writing, so opening and truncating use `open` and
/// `ftruncate` directly.
final class AppendOnlyFile {
  let path: String
  private let fileSystem: any FileSystem
  private let descriptor: FileDescriptor
  private(set) var byteCount: Int64
  private var isDirty = false

  /// Opens or creates `path` and truncates it to `completeByteCount` bytes.
  ///
  /// - Throws: ``TrackingError`` with code `.io`.
  init(path: String, completeByteCount: Int64, fileSystem: any FileSystem) throws {
    self.path = path
    self.fileSystem = fileSystem
    var fd: Int32
    repeat {
      fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
    } while fd < 0 && errno == EINTR
    guard fd >= 0 else {
      throw TrackingError.io(
        "opening", path: path, FileSystemError(operation: "open", path: path, errno: errno))
    }
    descriptor = FileDescriptor(rawValue: fd)
    var result: Int32
    repeat {
      result = ftruncate(fd, off_t(completeByteCount))
    } while result < 0 && errno == EINTR
    guard result == 0 else {
      let error = FileSystemError(operation: "ftruncate", path: path, errno: errno)
      _ = close(fd)
      throw TrackingError.io("truncating", path: path, error)
    }
    byteCount = completeByteCount
  }

  deinit {
    try? fileSystem.close(descriptor, path: path)
  }

  /// Writes `bytes` at the end of the file; a retry after a failure rewrites the same range.
  func append(_ bytes: [UInt8]) throws {
    guard !bytes.isEmpty else { return }
    do {
      try bytes.withUnsafeBytes { buffer in
        try fileSystem.write(buffer, to: descriptor, at: byteCount)
      }
    } catch {
      throw TrackingError.io("appending", path: path, error)
    }
    byteCount += Int64(bytes.count)
    isDirty = true
  }

  /// Flushes the appended bytes to stable storage (`fsync`) if any were written since the
  /// last call.
  func synchronize() throws {
    guard isDirty else { return }
    do {
      try fileSystem.synchronize(descriptor, path: path)
    } catch {
      throw TrackingError.io("fsync", path: path, error)
    }
    isDirty = false
  }
}
