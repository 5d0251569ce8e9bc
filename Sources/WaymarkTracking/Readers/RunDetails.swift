/// Everything about one run that `waymark runs show` prints.
public struct RunDetails: Sendable, Hashable, Codable {
  /// The run directory.
  public var directory: String
  /// The content of `run.json`: config, environment, code snapshot and resumes.
  public var record: RunRecord
  /// Status as readers report it, `crashed` included.
  public var status: ReportedRunStatus
  /// The last heartbeat, when the file exists.
  public var heartbeat: Heartbeat?
  /// Duration, computed like ``RunListEntry/durationSeconds``.
  public var durationSeconds: Double?
  /// Largest step among the metrics' last values.
  public var lastStep: Int?
  /// Summary of each metric by name.
  public var metrics: [String: MetricSummary]
  /// Names of the subdirectories of `checkpoints/`, sorted.
  public var checkpoints: [String]
  /// The content of `profile.json`, when the run wrote one.
  public var profile: ProfileReport?
  /// Number of events in `events.jsonl`.
  public var eventCount: Int
  /// Events of kind `error`, oldest first.
  public var errors: [RunEvent]
  /// Lines of `metrics.jsonl` skipped because they were not valid, plus one for a torn
  /// last line; 0 when the summaries came from `summary.json`.
  public var skippedMetricLineCount: Int
}
