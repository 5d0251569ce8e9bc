import WaymarkCore

/// Everything the writer thread needs to open a run's files and keep them up to date.
struct RunWriterConfiguration: Sendable {
  /// Resume marker that a resumed run writes first, and the history its summaries start from.
  struct ResumeSetup: Sendable {
    /// The marker line appended to `metrics.jsonl` before any new record.
    var marker: ResumeMarker
    /// The history on disk, with `marker` already applied.
    var history: MetricHistoryBuilder
  }

  var runID: String
  var directory: String
  /// Key of the run in ``OpenRunRegistry``. The writer thread removes it when it exits, so
  /// the directory counts as open until nothing writes to it anymore.
  var registryKey: String
  var fileSystem: any FileSystem
  var logger: Logger
  var profiler: Profiler
  var flushIntervalSeconds: Double
  var heartbeatIntervalSeconds: Double
  var writesTensorBoard: Bool
  /// Length of the complete lines of `metrics.jsonl`; the file is truncated to it.
  var metricsCompleteByteCount: Int64 = 0
  /// Length of the complete lines of `events.jsonl`; the file is truncated to it.
  var eventsCompleteByteCount: Int64 = 0
  var resume: ResumeSetup?
  /// Events written in the first cycle, such as `started` or `resumed`.
  var initialEvents: [RunEvent] = []
  /// Id of the next event after `initialEvents`.
  var nextEventID: Int = 1
  /// Records buffered before `log` starts dropping them, when the disk cannot keep up.
  var maxBufferedRecordCount = 4_000_000
  /// Buffered records at which `log` wakes the writer before its interval ends.
  var wakeRecordCount = 65_536
  /// One `log` call in this many records a `tracking.log.sampled` span.
  var logSpanSampleInterval: Int = 64
}
