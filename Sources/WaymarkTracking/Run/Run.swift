import Foundation
public import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One tracked training run: its directory, metrics, events, heartbeat, TensorBoard files,
/// code snapshot and profile.
///
/// Start a run with ``start(experiment:in:name:description:tags:config:options:)`` or
/// reopen one with ``resume(at:fromStep:isForced:options:)``. Log metrics with
/// ``log(_:_:step:epoch:)`` from any code, synchronous or not: the call buffers the value
/// and returns, and a writer thread appends it to `metrics.jsonl` within about a second.
/// End the run with ``finish(status:errorMessage:)``, which is safe to call from any task
/// and more than once.
///
/// The actor owns `run.json` and the background work (environment probes and the code
/// snapshot). Logging, events and flushing are `nonisolated`, so they never wait for the actor.
public actor Run {
  /// Run id, such as `20261204-200455-3f9a2c`.
  public nonisolated let id: String
  /// Experiment the run belongs to.
  public nonisolated let experiment: String
  /// Paths of the run's files.
  public nonisolated let layout: RunLayout
  /// Profiler holding the tracker's spans; the checkpoint engine can record into it too.
  public nonisolated let profiler: Profiler

  /// The run directory.
  public nonisolated var directory: String { layout.directory }

  nonisolated let writer: RunWriter
  let options: RunOptions
  var record: RunRecord
  private var lifecycle = RunLifecycle()
  var backgroundTasks: [Task<Void, Never>] = []
  var snapshotCancellation: CodeSnapshotter.Cancellation?
  private var finishTask: Task<Void, any Error>?

  init(record: RunRecord, layout: RunLayout, writer: RunWriter, options: RunOptions) {
    self.id = record.id
    self.experiment = record.experiment
    self.layout = layout
    self.profiler = writer.configuration.profiler
    self.writer = writer
    self.options = options
    self.record = record
  }

  deinit {
    // A run released without finish stops writing, and the writer thread removes it from
    // OpenRunRegistry when it exits. Its heartbeat then goes stale, and readers report it
    // as crashed after the stale threshold.
    writer.stopWithoutWaiting()
  }

  /// The current content of `run.json`.
  public var currentRecord: RunRecord { record }

  /// The stored status: `running` until ``finish(status:errorMessage:)`` completes.
  public var status: RunStatus { record.status }

  // MARK: Starting

  /// Creates `<runsDirectory>/<experiment>/<id>/` and starts a run in it.
  ///
  /// Returns after `run.json`, `heartbeat.json`, the `started` event and the empty metric
  /// files are on disk and fsynced. The fsyncs dominate the time this takes: a median of 4 to
  /// 10 ms in `TrackingBenchmarks` on a shared 2-core virtual machine. The slow environment
  /// probes and the code snapshot then run in the background and update `run.json` when
  /// they finish.
  ///
  /// - Parameters:
  ///   - experiment: Experiment name; becomes a directory name, so it must not be empty,
  ///     start with `.`, or contain `/`, a backslash or control characters.
  ///   - runsDirectory: Directory holding all experiments; created if missing.
  ///   - name: Display name; the run id when `nil`.
  ///   - description: Free text.
  ///   - tags: Labels for filtering.
  ///   - config: Any `Encodable` value; stored as JSON and hashed (see ``ConfigHash``).
  ///   - options: Intervals, snapshot, profiler and logger.
  /// - Throws: ``TrackingError`` with code `.invalidExperimentName`, `.invalidArgument`,
  ///   `.encodingFailed` or `.io`.
  public static func start(
    experiment: String, in runsDirectory: String, name: String? = nil, description: String = "",
    tags: [String] = [], config: some Encodable, options: RunOptions = RunOptions()
  ) async throws -> Run {
    let configValue = try ConfigHash.encodeConfig(config)
    return try await start(
      experiment: experiment, in: runsDirectory, name: name, description: description, tags: tags,
      config: configValue, options: options)
  }

  /// Creates `<runsDirectory>/<experiment>/<id>/` and starts a run whose config is a JSON
  /// value, such as the literal `["lr": 3e-4, "layers": [64, 64]]`, or no config.
  ///
  /// The same as ``start(experiment:in:name:description:tags:config:options:)`` with an
  /// `Encodable` config. This overload lets a dictionary literal with mixed value types serve
  /// as the config.
  public static func start(
    experiment: String, in runsDirectory: String, name: String? = nil, description: String = "",
    tags: [String] = [], config: JSONValue = [:], options: RunOptions = RunOptions()
  ) async throws -> Run {
    if let problem = PathComponent.problem(with: experiment) {
      throw TrackingError(
        .invalidExperimentName,
        "experiment name \(MetricNameRules.quoted(experiment)) \(problem); use a plain directory name such as 'resnet50-imagenet'"
      )
    }
    try validate(options)
    let configHash = ConfigHash.hash(of: config)
    let startDate = Date()
    let fileSystem = options.fileSystem

    let prepared = try await BlockingThreadPool.shared.run {
      let experimentDirectory = "\(runsDirectory)/\(experiment)"
      do {
        try fileSystem.createDirectoryTree(at: experimentDirectory)
      } catch {
        throw TrackingError.io(
          "creating the experiment directory", path: experimentDirectory, error)
      }
      var attempt = 0
      while true {
        let id = RunIdentifier.make(wallTime: startDate.timeIntervalSince1970)
        let layout = RunLayout(directory: "\(experimentDirectory)/\(id)")
        do {
          try fileSystem.createDirectory(at: layout.directory)
          try fileSystem.createDirectory(at: layout.tensorBoardDirectory)
        } catch let error as FileSystemError where error.errno == EEXIST && attempt < 8 {
          attempt += 1
          continue
        } catch {
          throw TrackingError.io("creating the run directory", path: layout.directory, error)
        }
        let environment = EnvironmentProbe.collectFast(
          workingDirectory: options.workingDirectory, fileSystem: fileSystem)
        return (id, layout, environment)
      }
    }
    let (id, layout, environment) = prepared
    let registryKey = canonicalPath(layout.directory)
    _ = OpenRunRegistry.register(registryKey)

    let snapshotsCode = options.codeSnapshot.source != .disabled
    let record = RunRecord(
      formatVersion: RunRecord.currentFormatVersion, id: id, name: name ?? id,
      experiment: experiment, description: description, tags: tags, config: config,
      configHash: configHash, status: .running, startTime: startDate, pid: ProcessIdentity.pid,
      host: ProcessIdentity.hostName, resumes: [], environment: environment,
      metricIntervalSteps: options.metricIntervalSteps,
      checkpointIntervalSteps: options.checkpointIntervalSteps,
      codeSnapshot: snapshotsCode
        ? CodeSnapshotReport(
          outcome: .inProgress, source: options.codeSnapshot.sourceName,
          maxByteCount: options.codeSnapshot.maxByteCount) : nil)

    var configuration = writerConfiguration(
      runID: id, layout: layout, registryKey: registryKey, options: options)
    configuration.initialEvents = [
      RunEvent(
        id: 1, wallTime: startDate.timeIntervalSince1970, kind: .started,
        message: "run \(id) of experiment \(experiment) started",
        data: ["pid": .int(Int64(ProcessIdentity.pid)), "host": .string(ProcessIdentity.hostName)])
    ]
    configuration.nextEventID = 2

    let run = try await open(
      record: record, layout: layout, configuration: configuration, options: options)
    await run.startBackgroundWork(
      probeTarget: .initial, snapshot: snapshotsCode ? options.codeSnapshot : nil)
    options.logger.info(
      "run started",
      metadata: ["run.id": id, "run.experiment": experiment, "run.directory": layout.directory])
    return run
  }

  /// Starts the writer thread and writes `run.json`. On failure, stops the writer and
  /// releases the directory in ``OpenRunRegistry``.
  static func open(
    record: RunRecord, layout: RunLayout, configuration: RunWriterConfiguration, options: RunOptions
  ) async throws -> Run {
    let writer: RunWriter
    do {
      writer = try await RunWriter.start(configuration)
    } catch {
      OpenRunRegistry.unregister(configuration.registryKey)
      throw error
    }
    let run = Run(record: record, layout: layout, writer: writer, options: options)
    do {
      try await run.persistRecord()
    } catch {
      await writer.stop()
      throw error
    }
    return run
  }

  static func validate(_ options: RunOptions) throws {
    guard options.flushIntervalSeconds > 0, options.flushIntervalSeconds.isFinite else {
      throw TrackingError(
        .invalidArgument,
        "flushIntervalSeconds \(options.flushIntervalSeconds) must be a positive number of seconds, such as 1"
      )
    }
    guard options.heartbeatIntervalSeconds > 0, options.heartbeatIntervalSeconds.isFinite else {
      throw TrackingError(
        .invalidArgument,
        "heartbeatIntervalSeconds \(options.heartbeatIntervalSeconds) must be a positive number of seconds, such as 5"
      )
    }
    guard options.logSpanSampleInterval >= 1 else {
      throw TrackingError(
        .invalidArgument,
        "logSpanSampleInterval \(options.logSpanSampleInterval) must be at least 1")
    }
  }

  static func writerConfiguration(
    runID: String, layout: RunLayout, registryKey: String, options: RunOptions
  ) -> RunWriterConfiguration {
    RunWriterConfiguration(
      runID: runID, directory: layout.directory, registryKey: registryKey,
      fileSystem: options.fileSystem,
      logger: options.logger.with("run.id", runID), profiler: options.profiler ?? Profiler(),
      flushIntervalSeconds: options.flushIntervalSeconds,
      heartbeatIntervalSeconds: options.heartbeatIntervalSeconds,
      writesTensorBoard: options.writesTensorBoard,
      logSpanSampleInterval: options.logSpanSampleInterval)
  }

  // MARK: Flushing and finishing

  /// Waits until every metric and event logged before the call is written to disk and
  /// fsynced, along with the TensorBoard file.
  ///
  /// - Throws: ``TrackingError`` with code `.io` when a write failed (the data stays
  ///   buffered and the next flush retries it), or `.runFinished` after the run finished.
  public nonisolated func flush() async throws {
    try await writer.flush()
  }

  /// Returns the summary of every metric, including values logged just before the call.
  public nonisolated func metricSummaries() async throws -> [String: MetricSummary] {
    do {
      try await writer.flush()
    } catch let error as TrackingError where error.code == .runFinished {
      // A finished run has written everything; its last summaries are final.
    }
    return writer.summaries()
  }

  /// Writes `summary.json`, `profile.json` and `trace.json` from the data logged so far.
  ///
  /// Each file is replaced atomically and fsynced. ``finish(status:errorMessage:)`` writes
  /// them too.
  ///
  /// - Throws: ``TrackingError`` with code `.io` or `.runFinished`.
  public nonisolated func writeReports() async throws {
    let runID = id
    let layout = layout
    let profiler = profiler
    let writer = writer
    let fileSystem = writer.configuration.fileSystem
    try await writer.perform("tracking.writeReports") {
      let now = WallClock.now()
      let summary = MetricSummaryFile(runID: runID, wallTime: now, metrics: writer.summaries())
      try AtomicFile.write(
        try encodeJSON(summary, path: layout.summaryFile), to: layout.summaryFile,
        fileSystem: fileSystem)
      let profile = ProfileReport(runID: runID, wallTime: now, operations: profiler.summary())
      try AtomicFile.write(
        try encodeJSON(profile, path: layout.profileFile), to: layout.profileFile,
        fileSystem: fileSystem)
      let trace: Data
      do {
        trace = try profiler.chromeTrace()
      } catch {
        throw TrackingError(
          .encodingFailed, "the profiler trace could not be encoded", path: layout.traceFile,
          underlying: error)
      }
      try AtomicFile.write(Array(trace), to: layout.traceFile, fileSystem: fileSystem)
    }
  }

  /// Ends the run: flushes everything, writes `summary.json`, `profile.json` and
  /// `trace.json`, and rewrites `run.json` with the status, end time and duration.
  ///
  /// Safe to call from any task and more than once: the first call does the work, calls
  /// made while it runs wait for it, and later calls return at once. Only the first call's
  /// status and message are stored. A code snapshot still being copied is stopped and
  /// reported as `cancelled`. The run is finished even when the calling task is cancelled.
  ///
  /// - Parameters:
  ///   - status: `.completed`, `.failed` or `.interrupted`.
  ///   - errorMessage: Why the run failed, stored in `run.json`.
  /// - Throws: ``TrackingError`` with code `.invalidArgument` for status `.running`, or the
  ///   first write failure. The remaining steps are still attempted and the writer stops,
  ///   but `run.json` may then still say `running`, so readers report the run as crashed
  ///   once its heartbeat is stale.
  public func finish(status: RunStatus = .completed, errorMessage: String? = nil) async throws {
    switch try lifecycle.requestFinish(status: status) {
    case .begin(let status):
      let task = Task { try await self.performFinish(status: status, errorMessage: errorMessage) }
      finishTask = task
      try await task.value
    case .waitForOtherFinish, .returnFinished:
      try await finishTask?.value
    }
  }

  private func performFinish(status: RunStatus, errorMessage: String?) async throws {
    var firstError: (any Error)?
    snapshotCancellation?.cancel()
    for task in backgroundTasks { await task.value }
    backgroundTasks = []

    var data: [String: JSONValue] = ["status": .string(status.rawValue)]
    if let errorMessage { data["errorMessage"] = .string(errorMessage) }
    _ = try? writer.recordEvent(
      kind: .finished, message: "run finished with status \(status.rawValue)", step: nil,
      data: data,
      error: nil)
    writer.closeIntake()

    do {
      try await writer.flush()
    } catch {
      firstError = error
    }
    do {
      try await writeReports()
    } catch {
      firstError = firstError ?? error
    }

    let end = Date()
    record.status = status
    record.endTime = end
    record.durationSeconds = end.timeIntervalSince(record.startTime)
    record.errorMessage = errorMessage
    do {
      try await persistRecord()
    } catch {
      firstError = firstError ?? error
    }

    await writer.stop()
    lifecycle.completeFinish()
    if let firstError {
      options.logger.error(
        "run finished with write failures", metadata: ["run.id": id, "error": "\(firstError)"])
      throw firstError
    }
    options.logger.info("run finished", metadata: ["run.id": id, "run.status": status.rawValue])
  }

  /// Rewrites `run.json` atomically on the writer thread, after the data queued before it.
  func persistRecord() async throws {
    let path = layout.runFile
    let bytes = try encodeJSON(record, path: path)
    let fileSystem = options.fileSystem
    try await writer.perform("tracking.writeRunRecord") {
      try AtomicFile.write(bytes, to: path, fileSystem: fileSystem)
    }
  }
}

/// Encodes a value as pretty JSON with a final newline, for the run's small files.
func encodeJSON(_ value: some Encodable, path: String) throws -> [UInt8] {
  do {
    var bytes = Array(try JSONCoding.encoder(pretty: true).encode(value))
    bytes.append(0x0A)
    return bytes
  } catch {
    throw TrackingError(
      .encodingFailed, "'\(path)' could not be encoded as JSON", path: path, underlying: error)
  }
}
