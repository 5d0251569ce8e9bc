import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension FileSystem {
  /// Creates `path` and any missing parent directories, like `mkdir -p`.
  func createDirectoryTree(at path: String) throws {
    if (try? status(at: path).kind) == .directory { return }
    let parent = AtomicFile.parentDirectory(of: path)
    if parent != path, parent != "/", parent != "." {
      try createDirectoryTree(at: parent)
    }
    do {
      try createDirectory(at: path)
    } catch let error as FileSystemError where error.errno == EEXIST {
      return
    }
  }
}

/// Returns the absolute path of `path` with symbolic links resolved (`realpath`), or `path`
/// itself when it does not exist.
func canonicalPath(_ path: String) -> String {
  guard let resolved = realpath(path, nil) else { return path }
  defer { free(resolved) }
  return String(cString: resolved)
}
