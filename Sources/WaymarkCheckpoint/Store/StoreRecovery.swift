import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Cleans up what an interrupted writer left in a store: temporary directories of saves that
/// never committed and trash directories of deletions that never finished.
///
/// Runs only while holding the store's write lock, so no live writer owns those entries.
enum StoreRecovery {
  /// Removes leftover `.tmp-*` and `.trash-*` directories and fsyncs the store directory.
  /// Returns the names removed.
  static func removeLeftovers(in directory: String, fileSystem: any FileSystem) throws -> [String] {
    let leftovers = try fileSystem.contentsOfDirectory(at: directory).filter { entry in
      entry.name.hasPrefix(CheckpointLayout.temporaryPrefix)
        || entry.name.hasPrefix(CheckpointLayout.trashPrefix)
    }
    for entry in leftovers {
      let path = directory + "/" + entry.name
      if entry.kind == .directory {
        try fileSystem.removeTree(at: path)
      } else {
        try fileSystem.removeFile(at: path)
      }
    }
    if !leftovers.isEmpty {
      try fileSystem.synchronizeDirectory(at: directory)
    }
    return leftovers.map(\.name)
  }

  /// Takes the store's write lock, then removes leftovers; releases the lock again when the
  /// cleanup fails. Blocks, so call it on a pool thread.
  ///
  /// - Returns: The held lock and the names of the leftovers removed.
  static func lockAndRecover(_ directory: String, fileSystem: any FileSystem) throws -> (
    StoreLock, [String]
  ) {
    let lock = try StoreLock(directory: directory)
    do {
      return (lock, try removeLeftovers(in: directory, fileSystem: fileSystem))
    } catch {
      lock.release()
      throw CheckpointError(
        .io, "cannot remove leftovers of an interrupted save in '\(directory)'", path: directory,
        underlying: error)
    }
  }

  /// Creates `directory` and any missing parents, fsyncing each parent whose entries changed.
  static func createDirectories(_ directory: String, fileSystem: any FileSystem) throws {
    if let status = try? fileSystem.status(at: directory) {
      guard status.kind == .directory else {
        throw CheckpointError(
          .invalidArgument,
          "'\(directory)' exists and is not a directory; choose a directory for checkpoints",
          path: directory)
      }
      return
    }
    let parent = parentPath(of: directory)
    if parent != directory, !parent.isEmpty {
      try createDirectories(parent, fileSystem: fileSystem)
    }
    do {
      try fileSystem.createDirectory(at: directory)
    } catch let error as FileSystemError where error.errno == EEXIST {
      return
    }
    try fileSystem.synchronizeDirectory(at: parent.isEmpty ? "." : parent)
  }

  static func parentPath(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
  }
}
