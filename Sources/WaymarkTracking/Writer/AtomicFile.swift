import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Replaces small files such as `run.json` so that a reader sees the old or the new
/// content, never a mix.
enum AtomicFile {
  /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path`
  /// and, when `isDurable`, fsyncs the directory.
  ///
  /// With `isDurable` false the temporary file is not fsynced either: the rename still keeps
  /// readers from seeing a partial file, but a power loss may lose the update. The
  /// heartbeat uses that, since it is rewritten every few seconds.
  ///
  /// - Throws: ``TrackingError`` with code `.io`; the temporary file is removed.
  static func write(
    _ bytes: [UInt8], to path: String, isDurable: Bool = true, fileSystem: any FileSystem
  ) throws {
    let directory = parentDirectory(of: path)
    let name = String(path.split(separator: "/").last ?? "file")
    let temporary = "\(directory)/.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    do {
      let file = try fileSystem.createFile(at: temporary)
      do {
        try bytes.withUnsafeBytes { buffer in
          try fileSystem.write(buffer, to: file, at: 0)
        }
        if isDurable { try fileSystem.synchronize(file, path: temporary) }
      } catch {
        try? fileSystem.close(file, path: temporary)
        throw error
      }
      try fileSystem.close(file, path: temporary)
      try fileSystem.rename(from: temporary, to: path)
      if isDurable { try fileSystem.synchronizeDirectory(at: directory) }
    } catch {
      try? fileSystem.removeFile(at: temporary)
      throw TrackingError.io("writing", path: path, error)
    }
  }

  /// Returns the directory part of `path`, or `.` when it has none.
  static func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
  }
}
