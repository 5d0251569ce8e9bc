import Foundation
public import Waymark

/// Trains the demo's character-level language model inside a tracked run that checkpoints
/// in the background: the code behind `waymark demo`, and an example of the training
/// integration.
public enum DemoTrainer {
  /// How to run the demo.
  public struct Options: Sendable {
    /// The run's settings. Ignored when resuming: the run's stored settings are used.
    public var settings: DemoRunSettings
    /// Directory of all experiments.
    public var runsDirectory = "runs"
    /// Experiment name.
    public var experiment = "demo"
    /// Run directory to resume, or `nil` for a new run.
    public var resume: String?
    /// Total steps of a resumed run, when it should differ from the stored settings.
    public var stepsOverride: Int64?
    /// Retention rules for the run's checkpoints.
    public var retention = RetentionPolicy.keepAll
    /// Logger for the run and the checkpoint manager.
    public var logger = Logger.silent
    /// Receives progress about four times a second.
    public var progress: @Sendable (DemoProgress) -> Void = { _ in }
    /// Whether Ctrl-C and SIGTERM stop training gracefully.
    public var handlesInterruptSignals = true
    /// Scheduling priority of the threads that compress and write checkpoints.
    public var writerPriority = BlockingThreadPool.Priority.normal

    public init(settings: DemoRunSettings) {
      self.settings = settings
    }
  }

  /// Trains until the configured step or a stop request, saving every
  /// ``DemoRunSettings/checkpointEverySteps`` steps and at the end.
  ///
  /// - Returns: The summary, after every checkpoint is committed and the run is finished.
  public static func run(_ options: Options) async throws -> DemoSummary {
    var settings = try options.resume.map(storedSettings(ofRun:)) ?? options.settings
    if options.resume != nil, let steps = options.stepsOverride {
      settings.steps = steps
    }
    if let directory = options.resume {
      // Both checks run before the run is reopened, so a rejected resume leaves its status
      // as it was.
      try await checkResumable(directory, steps: settings.steps)
      try await checkCorpusUnchanged(ofRun: directory, dataPath: settings.dataPath)
    }
    try settings.validate()
    if options.resume == nil {
      // Reading the corpus before the run starts turns a wrong --data path into an error
      // without leaving a failed run behind.
      _ = try TextCorpus(contentsOf: settings.dataPath)
    }

    var sessionOptions = TrainingSession.Options(
      experiment: options.experiment, runsDirectory: options.runsDirectory)
    sessionOptions.resume = options.resume
    sessionOptions.checkpointEverySteps = settings.checkpointEverySteps
    sessionOptions.retention = options.retention
    sessionOptions.logger = options.logger
    sessionOptions.handlesInterruptSignals = options.handlesInterruptSignals
    if options.writerPriority != .normal {
      sessionOptions.checkpointOptions.pool = BlockingThreadPool(
        threadCount: BlockingThreadPool.shared.threadCount, name: "waymark.writer",
        priority: options.writerPriority)
    }
    sessionOptions.runOptions.metricIntervalSteps = 1
    sessionOptions.description = "character-level language model trained by waymark demo"
    sessionOptions.tags = ["demo", settings.size.rawValue]

    return try await withTrainingSession(options: sessionOptions, config: settings) { session in
      try await train(settings: settings, session: session, progress: options.progress)
    }
  }

  /// Throws when the run's newest checkpoint already reached `steps`, so resuming would
  /// train nothing.
  static func checkResumable(_ directory: String, steps: Int64) async throws {
    let store = CheckpointStore(directory: directory + "/checkpoints")
    guard let newest = try? await store.committedCheckpoints().last, newest.step >= steps else {
      return
    }
    throw DemoError(
      .invalidConfiguration,
      "run '\(directory)' already has a checkpoint at step \(newest.step) of \(steps); pass --steps with more than \(newest.step) steps to train further",
      path: directory)
  }

  /// Throws when the text differs from the one the run's newest checkpoint was trained on,
  /// reading only that checkpoint's manifest.
  static func checkCorpusUnchanged(ofRun directory: String, dataPath: String) async throws {
    let store = CheckpointStore(directory: directory + "/checkpoints")
    guard let newest = try? await store.committedCheckpoints().last,
      let manifest = try? await CheckpointReader().manifest(ofCheckpointAt: newest.path)
    else { return }
    let corpus = try TextCorpus(contentsOf: dataPath)
    try checkCorpus(corpus, matches: manifest.extraState, step: newest.step, dataPath: dataPath)
  }

  /// Reads the settings a run was started with from its `run.json`.
  static func storedSettings(ofRun directory: String) throws -> DemoRunSettings {
    let path = directory + "/run.json"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DemoError(
        .corpusNotFound,
        "'\(directory)' is not a run directory (no readable run.json); pass the directory of a run that waymark demo started, as listed by 'waymark runs'",
        path: directory)
    }
    do {
      let record = try JSONCoding.decoder().decode(RunRecord.self, from: data)
      return try record.config.decode(as: DemoRunSettings.self)
    } catch {
      throw DemoError(
        .invalidConfiguration,
        "'\(path)' does not hold the settings of a waymark demo run; resume only runs that waymark demo started",
        path: directory)
    }
  }

  private static func train(
    settings: DemoRunSettings, session: TrainingSession, progress: @Sendable (DemoProgress) -> Void
  ) async throws -> DemoSummary {
    let corpus = try TextCorpus(contentsOf: settings.dataPath)
    let model = try CharLanguageModel(corpus: corpus, configuration: settings.model)
    if let restored = session.restored {
      try checkCorpus(
        corpus, matches: restored.state.extraState, step: restored.step,
        dataPath: settings.dataPath)
      try model.restore(from: restored.state)
    }

    var loop = TrainingLoopState(
      step: session.startStep, validationLoss: session.restored?.metrics["val/loss"])
    var lastSavedStep = session.restored?.step
    let startNanoseconds = MonotonicClock.nanoseconds()
    var lastProgressNanoseconds: UInt64 = 0

    while loop.step < settings.steps {
      let loss = Double(model.trainStep())
      loop.step += 1
      loop.recordTrainLoss(loss)
      var values = ["train/loss": loss]
      let isLastStep = loop.step == settings.steps || session.isStopRequested
      if loop.step % settings.evaluateEverySteps == 0 || isLastStep {
        let validation = model.validationLoss()
        loop.validationLoss = validation
        values["val/loss"] = validation
      }
      try session.log(step: loop.step, values)

      let scheduled = try await session.saveIfDue(step: loop.step, metrics: loop.checkpointMetrics)
      {
        try model.trainingState()
      }
      if scheduled.isSaved { lastSavedStep = loop.step }

      let now = MonotonicClock.nanoseconds()
      if now - lastProgressNanoseconds > 250_000_000 || loop.step == settings.steps {
        lastProgressNanoseconds = now
        progress(
          await snapshot(
            loop, settings: settings, session: session, since: startNanoseconds,
            lastSavedStep: lastSavedStep))
      }
      if session.isStopRequested { break }
    }

    if lastSavedStep != loop.step {
      if loop.validationLoss == nil || loop.step % settings.evaluateEverySteps != 0 {
        loop.validationLoss = model.validationLoss()
      }
      try await session.save(
        step: loop.step, state: model.trainingState(), metrics: loop.checkpointMetrics)
    }
    try await session.checkpoints.waitForAllSaves()
    let finalValidation =
      loop.step == settings.steps
      ? (loop.validationLoss ?? model.validationLoss()) : model.validationLoss()
    let statistics = await session.checkpoints.statistics
    return makeSummary(
      loop: loop, model: model, session: session, settings: settings, statistics: statistics,
      finalValidation: finalValidation, trainingSeconds: seconds(since: startNanoseconds))
  }

  /// Throws when the text differs from the text the checkpoint was trained on, because the
  /// resumed run could then never match an uninterrupted one.
  private static func checkCorpus(
    _ corpus: TextCorpus, matches extraState: JSONValue, step: Int64, dataPath: String
  ) throws {
    guard let saved = extraState["corpus"]?["xxh3"]?.stringValue else { return }
    let current = XXH3.hexString(corpus.contentHash)
    guard saved == current else {
      throw DemoError(
        .incompatibleState,
        "the text under '\(dataPath)' changed since step \(step) was saved (XXH3 \(current), was \(saved)); restore the original text to resume exactly, or start a new run",
        path: dataPath)
    }
  }

  private static func snapshot(
    _ loop: TrainingLoopState, settings: DemoRunSettings, session: TrainingSession,
    since start: UInt64,
    lastSavedStep: Int64?
  ) async -> DemoProgress {
    let statistics = await session.checkpoints.statistics
    let pending = await session.checkpoints.hasPendingSaves
    let trained = loop.step - session.startStep
    return DemoProgress(
      step: loop.step, totalSteps: settings.steps, trainLoss: loop.meanTrainLoss,
      validationLoss: loop.validationLoss,
      stepsPerSecond: Double(trained) / max(seconds(since: start), 1e-9),
      committedCheckpoints: statistics.committedCount, isWritingCheckpoint: pending,
      lastSavedStep: lastSavedStep)
  }

  private static func makeSummary(
    loop: TrainingLoopState, model: CharLanguageModel, session: TrainingSession,
    settings: DemoRunSettings,
    statistics: SaveStatistics, finalValidation: Double, trainingSeconds: Double
  ) -> DemoSummary {
    let trained = loop.step - session.startStep
    return DemoSummary(
      runDirectory: session.run.directory, isComplete: loop.step >= settings.steps,
      resumedFromStep: session.restored?.step, finalStep: loop.step,
      vocabularySize: model.vocabularySize,
      uniformLoss: log(Double(model.vocabularySize)), finalValidationLoss: finalValidation,
      finalTrainLoss: loop.meanTrainLoss,
      stepsPerSecond: Double(trained) / max(trainingSeconds, 1e-9),
      trainingSeconds: trainingSeconds, stateByteCount: model.stateByteCount,
      checkpointsWritten: statistics.committedCount, checkpointsFailed: statistics.failedCount,
      saveStallMedianSeconds: median(statistics.stallSeconds),
      saveStallMaxSeconds: statistics.stallSeconds.max() ?? 0,
      writeMedianSeconds: median(statistics.writeSeconds),
      writeMaxSeconds: statistics.writeSeconds.max() ?? 0,
      committedRawByteCount: statistics.committedRawByteCount,
      committedStoredByteCount: statistics.committedStoredByteCount)
  }

  private static func seconds(since start: UInt64) -> Double {
    Double(MonotonicClock.nanoseconds() - start) / 1e9
  }

  private static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }
}

/// The loop's running numbers: step, a moving average of the training loss, the latest
/// validation loss.
struct TrainingLoopState {
  var step: Int64
  var validationLoss: Double?
  private var recentTrainLosses: [Double] = []
  private var nextSlot = 0

  init(step: Int64, validationLoss: Double?) {
    self.step = step
    self.validationLoss = validationLoss
  }

  /// Mean of the last 50 training losses; NaN before the first step.
  var meanTrainLoss: Double {
    recentTrainLosses.isEmpty
      ? .nan : recentTrainLosses.reduce(0, +) / Double(recentTrainLosses.count)
  }

  mutating func recordTrainLoss(_ loss: Double) {
    if recentTrainLosses.count < 50 {
      recentTrainLosses.append(loss)
    } else {
      recentTrainLosses[nextSlot] = loss
      nextSlot = (nextSlot + 1) % 50
    }
  }

  /// Metrics stored in each checkpoint's manifest. The training loss is the mean of the last
  /// 50 steps, under its own name, because `train/loss` in the run's metrics is each step's.
  var checkpointMetrics: [String: Double] {
    var metrics = ["train/loss_mean50": meanTrainLoss]
    if let validationLoss { metrics["val/loss"] = validationLoss }
    return metrics
  }
}
