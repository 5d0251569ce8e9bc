/// Running statistics of one metric: count, minimum, maximum, mean and last value.
///
/// NaN and the infinities count in ``count`` and ``nonFiniteCount`` and can be the ``last``
/// value, but never the minimum, maximum or mean. ``min``, ``max`` and ``mean`` are `nil`
/// until a finite value arrives. When the minimum or maximum occurs more than once, its step
/// is the first one logged.
public struct MetricSummary: Sendable, Hashable, Codable {
  /// Number of values, finite or not.
  public var count: Int
  /// Number of NaN and infinite values.
  public var nonFiniteCount: Int
  /// Smallest finite value.
  public var min: Double?
  /// Largest finite value.
  public var max: Double?
  /// Mean of the finite values.
  public var mean: Double?
  /// Step of the smallest finite value.
  public var stepOfMin: Int?
  /// Step of the largest finite value.
  public var stepOfMax: Int?
  /// The value logged last.
  public var last: Double
  /// Step of the value logged last.
  public var lastStep: Int

  /// Creates a summary of one value.
  public init(value: Double, step: Int) {
    count = 0
    nonFiniteCount = 0
    last = value
    lastStep = step
    add(value, step: step)
  }

  /// Adds a value logged after every value already in the summary.
  public mutating func add(_ value: Double, step: Int) {
    count += 1
    last = value
    lastStep = step
    guard value.isFinite else {
      nonFiniteCount += 1
      return
    }
    let finiteCount = Double(count - nonFiniteCount)
    if let currentMean = mean {
      mean = currentMean + (value - currentMean) / finiteCount
    } else {
      mean = value
    }
    if min.map({ value < $0 }) ?? true {
      min = value
      stepOfMin = step
    }
    if max.map({ value > $0 }) ?? true {
      max = value
      stepOfMax = step
    }
  }

  /// Returns the best value under `goal`: the minimum or the maximum, with its step.
  public func best(for goal: MetricGoal) -> (value: Double, step: Int)? {
    switch goal {
    case .minimize:
      guard let min, let stepOfMin else { return nil }
      return (min, stepOfMin)
    case .maximize:
      guard let max, let stepOfMax else { return nil }
      return (max, stepOfMax)
    }
  }
}
