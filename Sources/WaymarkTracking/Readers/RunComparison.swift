public import WaymarkCore

/// Several runs side by side: where their configs differ and how their metrics ended.
public struct RunComparison: Sendable, Hashable, Codable {
  /// One compared run.
  public struct Run: Sendable, Hashable, Codable {
    /// Run id.
    public var id: String
    /// Display name.
    public var name: String
    /// Experiment name.
    public var experiment: String
    /// Status as readers report it.
    public var status: ReportedRunStatus
    /// Hash of the canonical config.
    public var configHash: String
    /// Largest step among the metrics' last values.
    public var lastStep: Int?
  }

  /// A config path whose value is not the same in every run.
  public struct ConfigDifference: Sendable, Hashable, Codable {
    /// Path such as `optimizer.lr` or `layers[2].width`; `$` for a config that is not an
    /// object or an array.
    public var path: String
    /// Value per run id; a run whose config lacks the path has no entry.
    public var values: [String: JSONValue]
  }

  /// One metric in every run.
  public struct Metric: Sendable, Hashable, Codable {
    /// Metric name.
    public var name: String
    /// Whether the best value is the minimum or the maximum.
    public var goal: MetricGoal
    /// Last value per run id; a run that did not log the metric has no entry.
    public var final: [String: Double]
    /// Best finite value per run id; no entry when the run logged no finite value.
    public var best: [String: Double]
    /// Step of the best value per run id.
    public var bestStep: [String: Int]
  }

  /// The runs in the order they were given.
  public var runs: [Run]
  /// Paths whose values differ, sorted by path.
  public var configDifferences: [ConfigDifference]
  /// Every metric any run logged, sorted by name.
  public var metrics: [Metric]
}
