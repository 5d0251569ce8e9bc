/// The best value of one metric in one run.
public struct BestMetricValue: Sendable, Hashable, Codable {
  /// Metric name.
  public var metric: String
  /// Whether the best value is the minimum or the maximum.
  public var goal: MetricGoal
  /// The value.
  public var value: Double
  /// Step at which it was logged.
  public var step: Int

  /// Creates a best value.
  public init(metric: String, goal: MetricGoal, value: Double, step: Int) {
    self.metric = metric
    self.goal = goal
    self.value = value
    self.step = step
  }
}
