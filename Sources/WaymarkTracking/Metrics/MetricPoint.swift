/// One logged value of a metric.
public struct MetricPoint: Sendable, Hashable, Codable {
  /// Training step the value belongs to.
  public var step: Int
  /// Epoch, when the caller gave one.
  public var epoch: Double?
  /// Seconds since the Unix epoch when the value was logged.
  public var wallTime: Double
  /// The value; NaN and the infinities are kept.
  public var value: Double

  /// Creates a point.
  public init(step: Int, epoch: Double? = nil, wallTime: Double, value: Double) {
    self.step = step
    self.epoch = epoch
    self.wallTime = wallTime
    self.value = value
  }
}
