/// Whether a smaller or a larger metric value is better.
public enum MetricMode: String, Sendable, Hashable, Codable, CaseIterable {
  /// Smaller is better, as for a loss.
  case min
  /// Larger is better, as for an accuracy.
  case max
}

/// A metric to rank checkpoints by: its name, its direction and the smallest change that
/// counts as an improvement.
///
/// Only finite values rank: a checkpoint whose value is missing, NaN or infinite is never
/// the best. Ranking walks checkpoints in step order. It moves from the current best to a
/// later checkpoint only when that one improves on it by at least `minimumImprovement`, or
/// is strictly better when the minimum is zero. So on a tie the earlier checkpoint stays
/// the best.
/// Retention, ``SavePolicy`` and ``CheckpointStore/best(by:)`` use the same rule.
public struct MetricObjective: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Name of the metric, as passed in `save(step:state:metrics:)`.
  public var metric: String
  /// Whether smaller or larger values are better.
  public var mode: MetricMode
  /// The smallest change, in the metric's own unit, that counts as an improvement; zero or
  /// positive.
  public var minimumImprovement: Double

  /// Creates an objective on `metric`.
  ///
  /// - Parameters:
  ///   - metric: Name of the metric.
  ///   - mode: Default `.min`.
  ///   - minimumImprovement: Default 0, so any strictly better value is an improvement.
  public init(metric: String, mode: MetricMode = .min, minimumImprovement: Double = 0) {
    self.metric = metric
    self.mode = mode
    self.minimumImprovement = minimumImprovement
  }

  public var description: String {
    let base = "\(metric) (\(mode))"
    return minimumImprovement > 0 ? base + " improving by at least \(minimumImprovement)" : base
  }

  /// Returns the metric's value in `metrics` when it can rank, or `nil` when it is missing,
  /// NaN or infinite.
  public func rankableValue(in metrics: [String: Double]) -> Double? {
    guard let value = metrics[metric], value.isFinite else { return nil }
    return value
  }

  /// Returns whether `candidate` improves on `best` by at least ``minimumImprovement``.
  ///
  /// Both values must be finite. With a minimum improvement of zero, a strictly better value
  /// is an improvement and an equal one is not. The minimum is compared with a relative
  /// tolerance of 1e-9, so decimal steps such as 1.0 to 0.9 reach a minimum of 0.1.
  public func isImprovement(_ candidate: Double, over best: Double) -> Bool {
    let change = mode == .min ? best - candidate : candidate - best
    // A relative slack of 1e-9 keeps rounding from rejecting an exact step: 1.0 - 0.9 is
    // 0.09999999999999998 in binary floating point, and must count for a minimum of 0.1.
    return change > 0 && change >= minimumImprovement * (1 - 1e-9)
  }

  /// Checks that the metric name is set and the minimum improvement is finite and not
  /// negative.
  ///
  /// - Throws: ``CheckpointError`` with `.invalidArgument` naming the bad value.
  public func validate() throws {
    guard !metric.isEmpty else {
      throw CheckpointError(
        .invalidArgument, "the metric name is empty; name the metric to rank checkpoints by")
    }
    guard minimumImprovement.isFinite, minimumImprovement >= 0 else {
      throw CheckpointError(
        .invalidArgument,
        "minimum improvement \(minimumImprovement) for metric '\(metric)' is invalid; use a finite value of 0 or more"
      )
    }
  }

  /// Returns the positions in `values` of the best `count` values, best first.
  ///
  /// `values` contains finite values in step order. The best is found by walking them in
  /// that order and moving to a later value only when it is an improvement on the current
  /// best. The next best repeats the walk without the values already chosen. With a minimum
  /// improvement of zero this is the order by value, the earlier step first on ties.
  ///
  /// - Complexity: O(`count` × `values.count`).
  func ranking(of values: [Double], count: Int) -> [Int] {
    var remaining = Array(values.indices)
    var chosen: [Int] = []
    while chosen.count < count, !remaining.isEmpty {
      var best = 0
      for position in remaining.indices.dropFirst()
      where isImprovement(values[remaining[position]], over: values[remaining[best]]) {
        best = position
      }
      chosen.append(remaining.remove(at: best))
    }
    return chosen
  }
}
