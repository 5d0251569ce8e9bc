import WaymarkCore

/// A checkpoint that retention deleted, with the rules that let it go.
struct RetentionDeletion: Sendable, Equatable {
  var step: Int64
  var reason: String
}

/// Applies a retention policy to a store: plans with ``RetentionPlanner``, then deletes
/// crash-safely through the ``FileSystem`` seam.
///
/// The caller holds the store's write lock, so no other writer commits or deletes at the
/// same time. A deletion has three steps:
///
/// 1. Rename every doomed `step-…` directory to a fresh `.trash-…` name. Readers ignore
///    names that start with a dot, so from here on the checkpoint is gone for them.
/// 2. Fsync the store directory, so the renames are durable before any file is removed.
///    A crash before this point leaves each checkpoint whole under one of its two names.
/// 3. Remove each trash tree. A crash here leaves a partial `.trash-…` directory, never a
///    partial `step-…` one, and the next open for writing removes it.
struct RetentionExecutor: Sendable {
  var directory: String
  var policy: RetentionPolicy
  var fileSystem: any FileSystem
  var pool: BlockingThreadPool
  var profiler: Profiler
  /// Summaries read by earlier passes of the same writer; `nil` reads every manifest.
  var summaryCache: CheckpointSummaryCache?

  /// Reads the store and decides, without changing anything.
  ///
  /// - Complexity: One directory listing, plus one manifest read per checkpoint not in the
  ///   cache when the policy ranks by a metric or keeps one per interval.
  func plan() async throws -> RetentionPlan {
    let fileSystem = self.fileSystem
    let directory = self.directory
    let needsManifests = policy.needsManifests
    let summaryCache = self.summaryCache
    let summaries = try await pool.run {
      let entries = try CheckpointStore.listCommitted(in: directory, fileSystem: fileSystem)
      guard needsManifests else {
        return entries.map { CheckpointSummary(step: $0.step, path: $0.path) }
      }
      if let summaryCache {
        return summaryCache.summaries(of: entries, fileSystem: fileSystem)
      }
      return entries.map { CheckpointSummary.read($0, fileSystem: fileSystem) }
    }
    return RetentionPlanner(policy: policy).plan(for: summaries)
  }

  /// Plans and deletes what the policy lets go.
  ///
  /// - Returns: The deleted checkpoints, oldest first, after their trash trees are removed.
  /// - Throws: ``CheckpointError`` with `.io` naming the step and path that failed. Every
  ///   checkpoint moved to trash before the failure is gone for readers; the next open for
  ///   writing removes what is left of it.
  func apply() async throws -> [RetentionDeletion] {
    guard !policy.keepsEverything else { return [] }
    let plan = try await plan()
    return try await delete(plan.deleted)
  }

  /// Deletes the checkpoints in `doomed` with the rename, fsync, remove sequence.
  func delete(_ doomed: [RetentionDecision]) async throws -> [RetentionDeletion] {
    guard !doomed.isEmpty else { return [] }
    let fileSystem = self.fileSystem
    let directory = self.directory
    let profiler = self.profiler
    return try await pool.run {
      try profiler.measure("checkpoint.retention", category: "checkpoint") {
        try Self.delete(doomed, in: directory, fileSystem: fileSystem)
      }
    }
  }

  private static func delete(
    _ doomed: [RetentionDecision], in directory: String, fileSystem: any FileSystem
  ) throws -> [RetentionDeletion] {
    var trashed: [(decision: RetentionDecision, trashPath: String)] = []
    for decision in doomed {
      let trashName = CheckpointLayout.uniqueName(
        prefix: CheckpointLayout.trashPrefix, step: decision.step)
      let trashPath = directory + "/" + trashName
      do {
        try fileSystem.rename(from: decision.path, to: trashPath)
      } catch {
        // The renames before this one may not be durable yet; try to make them so, and let
        // the next open remove their trash either way.
        if !trashed.isEmpty { try? fileSystem.synchronizeDirectory(at: directory) }
        throw CheckpointError(
          .io,
          "retention could not move the checkpoint of step \(decision.step) at '\(decision.path)' to trash\(movedNote(trashed)); it stays until the next commit retries",
          path: decision.path, underlying: error)
      }
      trashed.append((decision, trashPath))
    }

    do {
      try fileSystem.synchronizeDirectory(at: directory)
    } catch {
      throw CheckpointError(
        .io,
        "retention could not fsync the store '\(directory)' after moving\(stepList(trashed)) to trash; they are hidden from readers, and the next open for writing removes them",
        path: directory, underlying: error)
    }

    var deleted: [RetentionDeletion] = []
    for (decision, trashPath) in trashed {
      do {
        try fileSystem.removeTree(at: trashPath)
      } catch {
        throw CheckpointError(
          .io,
          "retention could not remove '\(trashPath)', the trash of step \(decision.step); the checkpoint is already gone for readers, and the next open for writing removes the rest",
          path: trashPath, underlying: error)
      }
      deleted.append(RetentionDeletion(step: decision.step, reason: decision.reasonText))
    }
    return deleted
  }

  private static func stepList(_ trashed: [(decision: RetentionDecision, trashPath: String)])
    -> String
  {
    let steps = trashed.map { String($0.decision.step) }.joined(separator: ", ")
    return trashed.count == 1 ? " step \(steps)" : " steps \(steps)"
  }

  private static func movedNote(_ trashed: [(decision: RetentionDecision, trashPath: String)])
    -> String
  {
    trashed.isEmpty ? "" : " (already moved to trash:\(stepList(trashed)))"
  }
}
