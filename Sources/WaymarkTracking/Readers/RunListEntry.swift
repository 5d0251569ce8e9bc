public import Foundation

/// One run in a ``RunList``: identity, status, timing, progress and best metric value.
public struct RunListEntry: Sendable, Hashable, Codable {
  /// Run id.
  public var id: String
  /// Experiment name.
  public var experiment: String
  /// Display name.
  public var name: String
  /// The run directory.
  public var directory: String
  /// Status as readers report it, `crashed` included.
  public var status: ReportedRunStatus
  /// When the run first started.
  public var startTime: Date
  /// When the run finished, for a finished run.
  public var endTime: Date?
  /// Seconds from start to end for a finished run, to now for a running one, and to the
  /// last heartbeat for a crashed one.
  public var durationSeconds: Double?
  /// Largest step among the metrics' last values.
  public var lastStep: Int?
  /// Labels of the run.
  public var tags: [String]
  /// Best value of the metric the listing asked for, when the run logged it.
  public var best: BestMetricValue?
}
