import Foundation
import WaymarkCore

/// Record, reported status, duration and metric summaries of a run, as every reader loads
/// them.
struct RunSnapshot {
  var record: RunRecord
  var heartbeat: Heartbeat?
  var status: ReportedRunStatus
  var durationSeconds: Double?
  var lastStep: Int?
  var summaries: [String: MetricSummary]
  var skippedMetricLineCount: Int

  /// Reads the run's files. Summaries come from `summary.json` for a finished run that
  /// wrote one, and from `metrics.jsonl` otherwise, because `summary.json` of an unfinished
  /// run may be older than the metrics.
  static func load(layout: RunLayout, liveness: LivenessRule, fileSystem: any FileSystem) throws
    -> RunSnapshot
  {
    let record = try RunFiles.readRecord(layout: layout, fileSystem: fileSystem)
    let heartbeat = RunFiles.readHeartbeat(layout: layout, fileSystem: fileSystem)
    let status = liveness.reportedStatus(
      stored: record.status, startWallTime: record.lastStartTime.timeIntervalSince1970,
      heartbeat: heartbeat)

    let durationSeconds: Double?
    switch status {
    case .completed, .failed, .interrupted:
      durationSeconds = record.durationSeconds
    case .running:
      durationSeconds = liveness.now - record.startTime.timeIntervalSince1970
    case .crashed:
      durationSeconds = heartbeat.map { $0.wallTime - record.startTime.timeIntervalSince1970 }
    }

    if record.status != .running,
      let file = RunFiles.readSummary(layout: layout, fileSystem: fileSystem)
    {
      return RunSnapshot(
        record: record, heartbeat: heartbeat, status: status, durationSeconds: durationSeconds,
        lastStep: file.lastStep, summaries: file.metrics, skippedMetricLineCount: 0)
    }
    let history = try MetricHistory.read(from: layout.metricsFile, fileSystem: fileSystem)
    let summaries = history.summaries()
    return RunSnapshot(
      record: record, heartbeat: heartbeat, status: status, durationSeconds: durationSeconds,
      lastStep: summaries.values.map(\.lastStep).max(), summaries: summaries,
      skippedMetricLineCount: history.skippedLineCount + (history.tornTailByteCount > 0 ? 1 : 0))
  }
}
