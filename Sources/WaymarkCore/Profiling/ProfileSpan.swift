/// One timed operation: a name, a category, when it started and how long it took.
public struct ProfileSpan: Sendable, Hashable {
  /// Operation name, such as `checkpoint.compress`.
  public var name: String

  /// Group the operation belongs to, such as `checkpoint` or `tracking`.
  public var category: String

  /// Start on the monotonic clock, in nanoseconds.
  public var startNanoseconds: UInt64

  /// Duration in nanoseconds.
  public var durationNanoseconds: UInt64

  /// Identifier of the thread that ran the operation.
  public var threadID: UInt64

  public init(
    name: String, category: String, startNanoseconds: UInt64, durationNanoseconds: UInt64,
    threadID: UInt64
  ) {
    self.name = name
    self.category = category
    self.startNanoseconds = startNanoseconds
    self.durationNanoseconds = durationNanoseconds
    self.threadID = threadID
  }
}

/// Statistics of one operation over every span recorded for it.
public struct ProfileOperationSummary: Sendable, Hashable, Codable {
  public var name: String
  public var category: String
  public var count: Int
  public var totalSeconds: Double
  public var meanSeconds: Double
  /// Median duration, estimated from a histogram with about 3% relative error.
  public var p50Seconds: Double
  /// 95th percentile duration, estimated from the same histogram.
  public var p95Seconds: Double
  public var maxSeconds: Double
}
