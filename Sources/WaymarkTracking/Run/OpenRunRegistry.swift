import Synchronization

/// The run directories this process has open, so a second `Run` for the same directory
/// in the same process is rejected instead of corrupting the files.
enum OpenRunRegistry {
  private static let directories = Mutex<Set<String>>([])

  /// Registers `directory`; returns `false` when it is already open.
  static func register(_ directory: String) -> Bool {
    directories.withLock { $0.insert(directory).inserted }
  }

  /// Removes `directory` after its run finished or failed to open.
  static func unregister(_ directory: String) {
    _ = directories.withLock { $0.remove(directory) }
  }

  /// Returns whether `directory` is open in this process.
  static func contains(_ directory: String) -> Bool {
    directories.withLock { $0.contains(directory) }
  }
}
