/// A snapshot of the demo's training, for a progress display.
public struct DemoProgress: Sendable {
  /// Steps finished.
  public var step: Int64
  /// Total steps of the run.
  public var totalSteps: Int64
  /// Training loss, averaged over recent steps.
  public var trainLoss: Double
  /// Latest validation loss, once evaluated.
  public var validationLoss: Double?
  /// Training steps per second since this process started training.
  public var stepsPerSecond: Double
  /// Checkpoints committed by this process.
  public var committedCheckpoints: Int
  /// Whether a checkpoint is being written in the background.
  public var isWritingCheckpoint: Bool
  /// Step of the newest checkpoint this process saved, if any.
  public var lastSavedStep: Int64?
}

/// What the demo reports when it ends.
public struct DemoSummary: Sendable, Codable {
  /// The run directory.
  public var runDirectory: String
  /// Whether training ran all its steps, or stopped early on a stop request.
  public var isComplete: Bool
  /// Step the run resumed from, or `nil` for a fresh run.
  public var resumedFromStep: Int64?
  /// Last step trained.
  public var finalStep: Int64
  /// Vocabulary size, and the loss of a uniform guess, ln(vocabulary size).
  public var vocabularySize: Int
  public var uniformLoss: Double
  /// Validation loss after the last step.
  public var finalValidationLoss: Double
  /// Training loss averaged over the last 50 steps, as the checkpoints record it under
  /// `train/loss_mean50`.
  public var finalTrainLoss: Double
  /// Training steps per second in this process, save stalls included.
  public var stepsPerSecond: Double
  /// Seconds this process spent training.
  public var trainingSeconds: Double
  /// Bytes of the checkpointed state (parameters and Adam moments).
  public var stateByteCount: Int
  /// Checkpoints committed by this process.
  public var checkpointsWritten: Int
  /// Checkpoints that failed to save.
  public var checkpointsFailed: Int
  /// How long each `save` held the training loop: median and maximum, in seconds.
  public var saveStallMedianSeconds: Double
  public var saveStallMaxSeconds: Double
  /// How long each background write took until the durable commit: median and maximum.
  public var writeMedianSeconds: Double
  public var writeMaxSeconds: Double
  /// Raw and stored bytes of the committed checkpoints.
  public var committedRawByteCount: Int64
  public var committedStoredByteCount: Int64
}
