/// Something the checkpoint manager did or found, for the run's event log.
public enum CheckpointEvent: Sendable {
  /// A save was captured and handed to the background writer.
  case saveQueued(step: Int64, stallSeconds: Double)
  /// A save is committed and durable.
  case committed(CommittedCheckpoint)
  /// A save failed; nothing was committed for its step.
  case saveFailed(step: Int64, error: CheckpointError)
  /// A save was skipped by the backpressure policy.
  case saveSkipped(step: Int64, reason: String)
  /// Resume passed over a damaged checkpoint.
  case checkpointSkipped(step: Int64, path: String, reason: String)
  /// Retention deleted a checkpoint.
  case checkpointDeleted(step: Int64, reason: String)
  /// Retention failed to delete a checkpoint; it stays until the next attempt.
  case retentionFailed(error: CheckpointError)
  /// Opening the store removed what an interrupted writer left behind.
  case leftoversRemoved(names: [String])
  /// The store lock was left by a process that is gone, and this process took it over.
  case lockTakenOver(previousPID: Int32, previousHost: String)
}

/// Counts and timings of the manager's saves.
public struct SaveStatistics: Sendable, Equatable {
  /// Saves requested.
  public var requestedCount = 0
  /// Saves committed.
  public var committedCount = 0
  /// Saves that failed.
  public var failedCount = 0
  /// Saves skipped by backpressure.
  public var skippedCount = 0
  /// For each save, how long `save` held the caller, in seconds.
  public var stallSeconds: [Double] = []
  /// For each committed save, seconds from the start of its background write to the commit.
  public var writeSeconds: [Double] = []
  /// Raw bytes of every committed save together.
  public var committedRawByteCount: Int64 = 0
  /// Stored bytes of every committed save together.
  public var committedStoredByteCount: Int64 = 0
}
