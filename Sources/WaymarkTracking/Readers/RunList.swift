/// The runs under a runs directory, as ``RunReader/listRuns(in:experiment:bestOf:goal:liveness:fileSystem:)``
/// returns them.
public struct RunList: Sendable, Hashable, Codable {
  /// The runs directory that was listed.
  public var runsDirectory: String
  /// The experiment the listing was limited to, if any.
  public var experiment: String?
  /// The metric whose best value each entry carries, if any.
  public var metric: String?
  /// Whether the best value is the minimum or the maximum.
  public var goal: MetricGoal?
  /// The runs, oldest first (run ids sort by start time).
  public var runs: [RunListEntry]
  /// Directories that look like runs but could not be read, with the reason.
  public var problems: [String]
}
