import Foundation
public import WaymarkCore

/// The decisions and deletions of one retention pass over a store.
public struct RetentionReport: Sendable {
  /// The store directory.
  public var directory: String
  /// The policy that was applied.
  public var policy: RetentionPolicy
  /// A decision for every checkpoint, oldest step first.
  public var plan: RetentionPlan
  /// Whether the pass only planned and deleted nothing.
  public var isDryRun: Bool
  /// Steps of the checkpoints deleted, oldest first; empty for a dry run.
  public var deletedSteps: [Int64]
  /// Leftovers of interrupted saves and deletions that opening the store removed.
  public var leftoversRemoved: [String]
  /// The process whose stale lock was taken over, when a dead writer left one.
  public var lockTakenOverFrom: (pid: Int32, host: String)?
}

extension CheckpointStore {
  /// Applies `policy` to this store once, as `waymark gc` does.
  ///
  /// Unless `dryRun` is set, this opens the store for writing like ``CheckpointManager``.
  /// It takes the write lock, taking over one left by a dead process, and removes leftover
  /// `.tmp-…` and `.trash-…` directories. Then it deletes what the policy lets go and
  /// releases the lock. Each deletion renames the checkpoint to a `.trash-…` name, fsyncs the store
  /// directory, then removes the trash, so a crash never leaves a partial `step-…`
  /// directory. A dry run takes no lock and changes nothing, so it works next to a live
  /// writer, but a writer may commit or delete before the plan is read.
  ///
  /// - Parameters:
  ///   - policy: The rules; it must pass ``RetentionPolicy/validate()``.
  ///   - dryRun: Only plan; default `false`.
  ///   - logger: Receives a record per deletion, per takeover and per leftover removal.
  /// - Returns: The plan and what was deleted.
  /// - Throws: ``CheckpointError`` with `.invalidArgument` for a bad policy, `.notFound`
  ///   when the directory does not exist, `.storeLocked` naming the owner when a live
  ///   process writes to the store, or `.io` when a deletion fails.
  public func applyRetention(
    _ policy: RetentionPolicy, dryRun: Bool = false, logger: Logger = .silent
  ) async throws -> RetentionReport {
    try policy.validate()
    let directory = self.directory
    let fileSystem = self.fileSystem
    let logger = logger.with("checkpoint.store", directory)
    try await pool.run {
      guard let status = try? fileSystem.status(at: directory), status.kind == .directory else {
        throw CheckpointError(
          .notFound,
          "checkpoint store '\(directory)' does not exist or is not a directory; check the path",
          path: directory)
      }
    }
    let executor = RetentionExecutor(
      directory: directory, policy: policy, fileSystem: fileSystem, pool: pool, profiler: profiler)
    var report = RetentionReport(
      directory: directory, policy: policy,
      plan: RetentionPlan(decisions: [], newestStep: nil, bestStep: nil),
      isDryRun: dryRun, deletedSteps: [], leftoversRemoved: [], lockTakenOverFrom: nil)
    guard !dryRun else {
      report.plan = try await executor.plan()
      return report
    }

    let (lock, leftovers) = try await pool.run {
      try StoreRecovery.lockAndRecover(directory, fileSystem: fileSystem)
    }
    defer { lock.release() }
    if let previous = lock.previousOwner {
      logger.warning(
        "took over a store lock left by a process that is gone",
        metadata: ["lock.pid": "\(previous.pid)", "lock.host": previous.host])
      report.lockTakenOverFrom = (previous.pid, previous.host)
    }
    if !leftovers.isEmpty {
      logger.info(
        "removed leftovers of interrupted saves",
        metadata: ["checkpoint.removed": leftovers.joined(separator: ",")])
      report.leftoversRemoved = leftovers
    }

    report.plan = try await executor.plan()
    for deletion in try await executor.delete(report.plan.deleted) {
      logger.info(
        "deleted a checkpoint",
        metadata: ["checkpoint.step": "\(deletion.step)", "checkpoint.reason": deletion.reason])
      report.deletedSteps.append(deletion.step)
    }
    return report
  }
}
