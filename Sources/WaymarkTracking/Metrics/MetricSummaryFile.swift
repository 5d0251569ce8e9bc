/// The content of `summary.json`: every metric's summary at the time of writing.
///
/// The run writes it at the end and when ``Run/writeReports()`` is called, so for a run
/// that is still going or crashed it may be older than `metrics.jsonl`. Readers use it
/// only for finished runs and compute summaries from `metrics.jsonl` otherwise.
public struct MetricSummaryFile: Sendable, Hashable, Codable {
  /// Id of the run.
  public var runID: String
  /// Seconds since the Unix epoch when the file was written.
  public var wallTime: Double
  /// The largest step among the metrics' last values, or `nil` without metrics.
  public var lastStep: Int?
  /// Summary of each metric by name.
  public var metrics: [String: MetricSummary]

  /// Creates the file's content.
  public init(runID: String, wallTime: Double, metrics: [String: MetricSummary]) {
    self.runID = runID
    self.wallTime = wallTime
    self.lastStep = metrics.values.map(\.lastStep).max()
    self.metrics = metrics
  }
}
