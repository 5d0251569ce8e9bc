/// Whether lower or higher values of a metric are better.
public enum MetricGoal: String, Sendable, Hashable, Codable, CaseIterable {
  /// Lower is better, as for a loss.
  case minimize
  /// Higher is better, as for an accuracy.
  case maximize
}
