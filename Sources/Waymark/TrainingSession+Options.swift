public import WaymarkCheckpoint
public import WaymarkCore
public import WaymarkTracking

extension TrainingSession {
  /// Settings of a training session: where the run lives, when to save, what to keep.
  public struct Options: Sendable {
    /// Experiment name; the run directory is `<runsDirectory>/<experiment>/<run-id>`.
    public var experiment: String
    /// Directory of all experiments; `runs` by default.
    public var runsDirectory: String
    /// Display name of a new run; its id when `nil`.
    public var name: String?
    /// Free-text description of a new run.
    public var description = ""
    /// Labels of a new run.
    public var tags: [String] = []
    /// A run directory to resume: the session reopens the run and restores its newest valid
    /// checkpoint. `nil` starts a new run.
    public var resume: String?
    /// Save every N steps through ``TrainingSession/saveIfDue(step:metrics:state:)``.
    public var checkpointEverySteps: Int64?
    /// Save every T seconds through ``TrainingSession/saveIfDue(step:metrics:state:)``.
    public var checkpointEverySeconds: Double?
    /// Also save when this metric improves on the best saved value.
    public var checkpointOnImprovement: MetricObjective?
    /// Which checkpoints to keep; keep all by default.
    public var retention: RetentionPolicy = .keepAll
    /// Chunk size, codec, backpressure and file system of the checkpoint manager. Its
    /// `retention` and `savePolicy` are set from the fields above.
    public var checkpointOptions = CheckpointManager.Options()
    /// Flush interval, heartbeat, code snapshot and other tracking settings.
    public var runOptions = RunOptions()
    /// Whether the first Ctrl-C or SIGTERM becomes a stop request instead of killing the
    /// process; `true` by default. A second signal kills the process as usual.
    public var handlesInterruptSignals = true
    /// Logger for the session, the run and the checkpoint manager; silent by default.
    public var logger: Logger = .silent

    /// Creates options for `experiment` under `runsDirectory`.
    public init(experiment: String, runsDirectory: String = "runs") {
      self.experiment = experiment
      self.runsDirectory = runsDirectory
    }

    /// The checkpoint manager's options with this session's save and retention rules.
    var resolvedCheckpointOptions: CheckpointManager.Options {
      var options = checkpointOptions
      options.retention = retention
      options.savePolicy = SavePolicy(
        everySteps: checkpointEverySteps, everySeconds: checkpointEverySeconds,
        onImprovement: checkpointOnImprovement)
      return options
    }
  }
}
