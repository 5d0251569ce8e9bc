import WaymarkCore

/// A checkpoint that retention deleted, with the rule that let it go.
struct RetentionDeletion: Sendable {
  var step: Int64
  var reason: String
}

/// Applies a retention policy to a store: decides, then deletes crash-safely.
struct RetentionExecutor: Sendable {
  var directory: String
  var policy: RetentionPolicy
  var fileSystem: any FileSystem
  var pool: BlockingThreadPool
  var profiler: Profiler

  /// Deletes what the policy lets go. A deletion first renames the checkpoint to a `.trash-`
  /// name and fsyncs the store, so a crash mid-deletion never leaves a half-deleted
  /// checkpoint under a committed name.
  func apply() async throws -> [RetentionDeletion] {
    let store = CheckpointStore(directory: directory, fileSystem: fileSystem, pool: pool)
    let entries = try await store.committedCheckpoints()
    guard let keepLast = policy.keepLast, entries.count > keepLast else { return [] }
    let doomed = entries.dropLast(max(keepLast, 1))
    let fileSystem = self.fileSystem
    let directory = self.directory
    return try await pool.run {
      var deleted: [RetentionDeletion] = []
      for entry in doomed {
        let trash = directory + "/" + CheckpointLayout.uniqueName(prefix: CheckpointLayout.trashPrefix, step: entry.step)
        try fileSystem.rename(from: entry.path, to: trash)
        try fileSystem.synchronizeDirectory(at: directory)
        try fileSystem.removeTree(at: trash)
        deleted.append(RetentionDeletion(step: entry.step, reason: "older than the newest \(keepLast)"))
      }
      return deleted
    }
  }
}
