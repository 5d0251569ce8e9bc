import WaymarkCheckpoint
public import WaymarkCore
import WaymarkTracking

/// Runs a training loop inside a tracked run with a checkpoint store, and ends the run with
/// the status the loop earned.
///
/// The session starts a new run, or with ``TrainingSession/Options/resume`` reopens one and
/// restores its newest valid checkpoint into ``TrainingSession/restored``. When `body`:
/// - returns, pending saves are committed and the run ends `completed`, or `interrupted`
///   when a stop was requested;
/// - throws, the error is recorded with its call stack, the run ends `failed` with the
///   message (`interrupted` for a cancellation or after a stop request), and the error is
///   rethrown.
///
/// With ``TrainingSession/Options/handlesInterruptSignals`` the first Ctrl-C or SIGTERM
/// only sets ``TrainingSession/isStopRequested``; the loop's next
/// ``TrainingSession/saveIfDue(step:metrics:state:)`` saves and the loop can return.
///
/// - Parameters:
///   - options: Where the run lives and when to save.
///   - config: The run's config; stored in `run.json` and hashed. Ignored when resuming.
///   - body: The training loop.
/// - Returns: What `body` returns.
/// - Throws: What `body` throws, a ``TrackingError`` or ``CheckpointError`` from opening the
///   run or its store, or the first save failure found when closing.
public func withTrainingSession<Result>(
  options: TrainingSession.Options, config: some Encodable & Sendable = JSONValue.object([:]),
  isolation: isolated (any Actor)? = #isolation,
  _ body: (TrainingSession) async throws -> Result
) async throws -> Result {
  let session = try await TrainingSession.open(options: options, config: config)
  let monitor =
    options.handlesInterruptSignals
    ? SignalMonitor { [session] signalNumber in
      options.logger.notice(
        "stop requested by a signal; saving and finishing the run",
        metadata: ["signal": "\(signalNumber)"])
      session.requestStop()
    } : nil
  defer { monitor?.cancel() }

  let result: Result
  do {
    result = try await body(session)
  } catch {
    let isInterruption = error is CancellationError || session.isStopRequested || Task.isCancelled
    if !isInterruption {
      _ = try? session.run.recordError(error, context: ["operation": "training"])
    }
    let status: RunStatus = isInterruption ? .interrupted : .failed
    try? await session.close(status: status, errorMessage: isInterruption ? nil : "\(error)")
    throw error
  }
  let interrupted = session.isStopRequested || Task.isCancelled
  try await session.close(status: interrupted ? .interrupted : .completed, errorMessage: nil)
  return result
}

extension TrainingSession {
  /// Starts or resumes the run, restores the newest valid checkpoint when resuming, and
  /// opens the checkpoint store.
  static func open(options: Options, config: some Encodable & Sendable) async throws
    -> TrainingSession
  {
    var runOptions = options.runOptions
    runOptions.logger = options.logger
    runOptions.checkpointIntervalSteps = options.checkpointEverySteps.map { Int($0) }

    let run: Run
    var restored: LoadedCheckpoint?
    var skipped: [SkippedCheckpoint] = []
    if let directory = options.resume {
      let store = CheckpointStore(
        directory: directory + "/checkpoints", fileSystem: options.checkpointOptions.fileSystem,
        pool: options.checkpointOptions.pool)
      (restored, skipped) = try await store.loadNewestValid()
      // A checkpoint of step N contains the state after N steps, and values logged at step N
      // came from that state, so the resumed run repeats steps from N + 1 on.
      run = try await Run.resume(
        at: directory, fromStep: restored.map { Int($0.step) + 1 }, options: runOptions)
    } else {
      run = try await Run.start(
        experiment: options.experiment, in: options.runsDirectory, name: options.name,
        description: options.description, tags: options.tags, config: config, options: runOptions)
    }
    for skip in skipped {
      CheckpointEventRecorder.record(
        .checkpointSkipped(step: skip.entry.step, path: skip.entry.path, reason: skip.reason),
        in: run)
      // The event log is not where a user looks while starting a run, so the logger reports
      // it too.
      options.logger.warning(
        "resume passed over a damaged checkpoint; run 'waymark verify' on the run for details",
        metadata: [
          "checkpoint.step": "\(skip.entry.step)", "checkpoint.path": skip.entry.path,
          "checkpoint.reason": skip.reason,
        ])
    }

    do {
      let checkpoints = try await CheckpointManager(
        directory: run.directory + "/checkpoints", options: options.resolvedCheckpointOptions,
        logger: options.logger, profiler: run.profiler
      ) { event in
        CheckpointEventRecorder.record(event, in: run)
      }
      return TrainingSession(run: run, checkpoints: checkpoints, restored: restored)
    } catch {
      _ = try? run.recordError(error, context: ["operation": "checkpoint.open"])
      try? await run.finish(status: .failed, errorMessage: "\(error)")
      throw error
    }
  }

  /// Commits pending saves, releases the store and ends the run with `status`.
  ///
  /// A save that failed without anyone waiting for it turns `completed` into `failed` and is
  /// rethrown after the run is finished.
  func close(status: RunStatus, errorMessage: String?) async throws {
    var status = status
    var message = errorMessage
    var saveFailure: (any Error)?
    do {
      try await checkpoints.close()
    } catch {
      saveFailure = error
      if status == .completed {
        status = .failed
        message = "a checkpoint save failed: \(error)"
      }
    }
    try await run.finish(status: status, errorMessage: message)
    if let saveFailure {
      throw saveFailure
    }
  }
}
