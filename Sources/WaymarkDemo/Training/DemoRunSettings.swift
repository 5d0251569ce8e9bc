/// Everything that decides a demo run's result; stored as the run's config, so a resumed
/// run continues with exactly the settings it started with.
public struct DemoRunSettings: Codable, Sendable, Hashable {
  /// File or folder of training text, as an absolute path.
  public var dataPath: String
  /// Total training steps.
  public var steps: Int64
  /// Model size preset.
  public var size: DemoModelSize
  /// Model hyperparameters, including the seed.
  public var model: DemoModelConfiguration
  /// Steps between checkpoints.
  public var checkpointEverySteps: Int64
  /// Steps between validation-loss evaluations.
  public var evaluateEverySteps: Int64

  public init(
    dataPath: String, steps: Int64, size: DemoModelSize, model: DemoModelConfiguration,
    checkpointEverySteps: Int64, evaluateEverySteps: Int64
  ) {
    self.dataPath = dataPath
    self.steps = steps
    self.size = size
    self.model = model
    self.checkpointEverySteps = checkpointEverySteps
    self.evaluateEverySteps = evaluateEverySteps
  }

  /// Throws `.invalidConfiguration` naming the first setting out of range.
  public func validate() throws {
    guard steps > 0 else {
      throw DemoError(.invalidConfiguration, "steps is \(steps); train for at least 1 step")
    }
    guard checkpointEverySteps > 0 else {
      throw DemoError(
        .invalidConfiguration,
        "checkpoint interval is \(checkpointEverySteps) steps; it must be at least 1")
    }
    guard evaluateEverySteps > 0 else {
      throw DemoError(
        .invalidConfiguration,
        "evaluation interval is \(evaluateEverySteps) steps; it must be at least 1")
    }
  }
}
