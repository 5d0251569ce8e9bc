import Foundation
import WaymarkCore

extension Run {
  /// Reopens an existing run directory, usually after a crash or an interruption, and sets
  /// its status back to `running`.
  ///
  /// The run keeps its id, config and history. `run.json` gets a new ``ResumeRecord``,
  /// `events.jsonl` a `resumed` event whose id continues the numbering, and `metrics.jsonl`
  /// a resume marker. A line a crash cut short at the end of `metrics.jsonl` or
  /// `events.jsonl` is removed first, and the `resumed` event reports how many bytes were
  /// removed. TensorBoard gets a new event file. A resumed run takes no new code snapshot;
  /// its environment is probed again and stored in the resume record.
  ///
  /// Values logged before the crash at steps the resumed run repeats are dropped by every
  /// reader (see ``MetricHistory``). Pass `fromStep`, usually the step of the checkpoint
  /// the training restored, to make that cut explicit. Without it, the step of the first
  /// value logged after the resume is the cut.
  ///
  /// - Parameters:
  ///   - directory: The run directory, `<runs>/<experiment>/<run-id>`.
  ///   - fromStep: First step the resumed training repeats.
  ///   - isForced: Resume even when the run looks alive in another process, for a process
  ///     that is known to be gone although its heartbeat is still fresh.
  ///   - options: Options of the resumed process; ``RunOptions/codeSnapshot`` is ignored.
  /// - Throws: ``TrackingError`` with code `.notFound` when `run.json` is missing,
  ///   `.invalidRunFile` when it is not valid, `.runInUse` when a live process has the run
  ///   open, `.invalidArgument` for a negative `fromStep`, or `.io`.
  public static func resume(
    at directory: String, fromStep: Int? = nil, isForced: Bool = false,
    options: RunOptions = RunOptions()
  ) async throws -> Run {
    try validate(options)
    if let fromStep, fromStep < 0 {
      throw TrackingError(.invalidArgument, "fromStep \(fromStep) is negative; steps count from 0")
    }
    let layout = RunLayout(
      directory: directory.hasSuffix("/") ? String(directory.dropLast()) : directory)
    let fileSystem = options.fileSystem
    let prepared = try await BlockingThreadPool.shared.run {
      try ResumePreparation.prepare(
        layout: layout, fromStep: fromStep, isForced: isForced, options: options,
        fileSystem: fileSystem)
    }
    guard OpenRunRegistry.register(prepared.registryKey) else {
      throw TrackingError(
        .runInUse,
        "run directory '\(layout.directory)' is already open in this process; finish that Run first",
        path: layout.directory)
    }

    var record = prepared.record
    let now = Date()
    let resumeIndex = record.resumes.count
    record.resumes.append(
      ResumeRecord(
        time: now, pid: ProcessIdentity.pid, host: ProcessIdentity.hostName, fromStep: fromStep,
        previousStatus: prepared.previousStatus, arguments: CommandLine.arguments,
        environment: prepared.environment))
    record.status = .running
    record.endTime = nil
    record.durationSeconds = nil
    record.errorMessage = nil
    record.pid = ProcessIdentity.pid
    record.host = ProcessIdentity.hostName

    let resumedEventID = prepared.lastEventID + 1
    var history = prepared.history
    history.applyResume(fromStep: fromStep)
    var configuration = writerConfiguration(
      runID: record.id, layout: layout, registryKey: prepared.registryKey, options: options)
    configuration.metricsCompleteByteCount = prepared.metricsScan.completeByteCount
    configuration.eventsCompleteByteCount = prepared.eventsScan.completeByteCount
    configuration.resume = RunWriterConfiguration.ResumeSetup(
      marker: ResumeMarker(
        eventID: resumedEventID, fromStep: fromStep.map(Int64.init),
        wallTime: now.timeIntervalSince1970),
      history: history)
    var data: [String: JSONValue] = [
      "previousStatus": .string(prepared.previousStatus.rawValue),
      "resumeCount": .int(Int64(record.resumes.count)),
      "pid": .int(Int64(ProcessIdentity.pid)),
      "host": .string(ProcessIdentity.hostName),
      "tornMetricsByteCount": .int(prepared.metricsScan.tornTailByteCount),
      "tornEventsByteCount": .int(prepared.eventsScan.tornTailByteCount),
    ]
    if let fromStep { data["fromStep"] = .int(Int64(fromStep)) }
    configuration.initialEvents = [
      RunEvent(
        id: resumedEventID, wallTime: now.timeIntervalSince1970, kind: .resumed,
        message: "run \(record.id) resumed after status \(prepared.previousStatus.rawValue)"
          + (fromStep.map { " from step \($0)" } ?? ""),
        step: fromStep, data: data)
    ]
    configuration.nextEventID = resumedEventID + 1

    let run = try await open(
      record: record, layout: layout, configuration: configuration, options: options)
    await run.startBackgroundWork(probeTarget: .resume(index: resumeIndex), snapshot: nil)
    options.logger.info(
      "run resumed",
      metadata: [
        "run.id": record.id, "run.previousStatus": prepared.previousStatus.rawValue,
        "run.resumeCount": "\(record.resumes.count)",
      ])
    return run
  }
}

/// Record, status and file positions that resuming reads from disk before the run reopens.
struct ResumePreparation: Sendable {
  var record: RunRecord
  var previousStatus: ReportedRunStatus
  var registryKey: String
  var lastEventID: Int
  var eventsScan: JSONLinesReader.Scan
  var metricsScan: JSONLinesReader.Scan
  var history: MetricHistoryBuilder
  var environment: EnvironmentMetadata

  /// Reads `run.json`, the heartbeat, `events.jsonl` and `metrics.jsonl`, and checks that no
  /// live process has the run open. Blocks.
  static func prepare(
    layout: RunLayout, fromStep: Int?, isForced: Bool, options: RunOptions,
    fileSystem: any FileSystem
  ) throws -> ResumePreparation {
    let record = try RunFiles.readRecord(layout: layout, fileSystem: fileSystem)
    let registryKey = canonicalPath(layout.directory)
    if OpenRunRegistry.contains(registryKey) {
      throw TrackingError(
        .runInUse,
        "run directory '\(layout.directory)' is already open in this process; finish that Run first",
        path: layout.directory)
    }
    let heartbeat = RunFiles.readHeartbeat(layout: layout, fileSystem: fileSystem)
    let rule = LivenessRule()
    let previousStatus = rule.reportedStatus(
      stored: record.status, startWallTime: record.lastStartTime.timeIntervalSince1970,
      heartbeat: heartbeat)
    if previousStatus == .running, !isForced {
      // A run released without finish in this process keeps this process's id in a heartbeat
      // that stays fresh for up to 30 seconds. It is safe to resume, because its writer
      // thread has exited: the directory left OpenRunRegistry only then.
      let isAbandonedHere =
        heartbeat?.pid == ProcessIdentity.pid && heartbeat?.host == ProcessIdentity.hostName
      if !isAbandonedHere {
        let owner = heartbeat.map { "process \($0.pid) on host \($0.host)" } ?? "another process"
        throw TrackingError(
          .runInUse,
          "run \(record.id) is still running in \(owner); stop that process first, or pass isForced: true if it is gone",
          path: layout.directory)
      }
    }

    var lastEventID = 0
    let reader = JSONLinesReader(fileSystem: fileSystem)
    let eventsScan: JSONLinesReader.Scan
    if fileSystem.exists(at: layout.eventsFile) {
      eventsScan = try reader.scan(path: layout.eventsFile) { line in
        if let id = JSONParser.parse(line)?["id"]?.intValue {
          lastEventID = max(lastEventID, Int(id))
        }
      }
    } else {
      eventsScan = JSONLinesReader.Scan(completeByteCount: 0, tornTailByteCount: 0)
    }

    var builder = MetricHistoryBuilder()
    let metricsScan: JSONLinesReader.Scan
    if fileSystem.exists(at: layout.metricsFile) {
      metricsScan = try reader.scan(path: layout.metricsFile) { line in builder.add(line: line) }
    } else {
      metricsScan = JSONLinesReader.Scan(completeByteCount: 0, tornTailByteCount: 0)
    }

    let environment = EnvironmentProbe.collectFast(
      workingDirectory: options.workingDirectory, fileSystem: fileSystem)
    return ResumePreparation(
      record: record, previousStatus: previousStatus, registryKey: registryKey,
      lastEventID: lastEventID,
      eventsScan: eventsScan, metricsScan: metricsScan, history: builder, environment: environment)
  }
}
