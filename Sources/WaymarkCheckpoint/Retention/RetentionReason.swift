import Foundation

/// Why retention keeps or deletes a checkpoint: one rule that keeps it, or one rule that
/// does not.
///
/// A kept checkpoint lists every rule that keeps it; a deleted one lists every rule that
/// could have kept it and why each did not.
public enum RetentionReason: Sendable, Hashable, CustomStringConvertible {
  /// The newest committed checkpoint, which is never deleted.
  case newest
  /// The current best by the policy's metric, which is never deleted.
  case currentBest(metric: String, value: Double)
  /// Among the newest `count`; `rank` 1 is the newest.
  case amongNewest(rank: Int, count: Int)
  /// Among the best `count` by the metric; `rank` 1 is the current best.
  case amongBest(rank: Int, count: Int, metric: String, value: Double)
  /// The step is a multiple of the keep-every interval.
  case stepMultiple(interval: Int64)
  /// The first checkpoint, by step, of its wall-time interval.
  case firstInInterval(seconds: Double, intervalStart: Double)
  /// The policy has no keep rule, so everything is kept.
  case noKeepRule

  /// Not among the newest `count`.
  case olderThanNewest(count: Int)
  /// Ranked below the best `count` by the metric.
  case belowBest(count: Int, metric: String, value: Double)
  /// The checkpoint has no value for the metric, so only the other rules judge it.
  case metricMissing(metric: String)
  /// The metric is NaN or infinite, which never counts as best.
  case metricNotFinite(metric: String, value: Double)
  /// The step is not a multiple of the keep-every interval.
  case stepNotMultiple(interval: Int64)
  /// An earlier checkpoint is the first of the same wall-time interval.
  case notFirstInInterval(seconds: Double, intervalStart: Double)
  /// The manifest is unreadable, so rules that need its metrics or wall time pass over the
  /// checkpoint.
  case manifestUnreadable(problem: String)

  /// Whether the reason keeps the checkpoint.
  public var keeps: Bool {
    switch self {
    case .newest, .currentBest, .amongNewest, .amongBest, .stepMultiple, .firstInInterval,
      .noKeepRule:
      true
    case .olderThanNewest, .belowBest, .metricMissing, .metricNotFinite, .stepNotMultiple,
      .notFirstInInterval, .manifestUnreadable:
      false
    }
  }

  /// A stable identifier of the case, for scripts reading `--json` output.
  public var code: String {
    switch self {
    case .newest: "newest"
    case .currentBest: "currentBest"
    case .amongNewest: "amongNewest"
    case .amongBest: "amongBest"
    case .stepMultiple: "stepMultiple"
    case .firstInInterval: "firstInInterval"
    case .noKeepRule: "noKeepRule"
    case .olderThanNewest: "olderThanNewest"
    case .belowBest: "belowBest"
    case .metricMissing: "metricMissing"
    case .metricNotFinite: "metricNotFinite"
    case .stepNotMultiple: "stepNotMultiple"
    case .notFirstInInterval: "notFirstInInterval"
    case .manifestUnreadable: "manifestUnreadable"
    }
  }

  public var description: String {
    switch self {
    case .newest:
      "newest checkpoint, always kept"
    case .currentBest(let metric, let value):
      "current best by \(metric) (\(value)), always kept"
    case .amongNewest(let rank, let count):
      rank == 1 ? "newest of the last \(count)" : "number \(rank) of the newest \(count)"
    case .amongBest(let rank, let count, let metric, let value):
      rank == 1
        ? "best by \(metric) (\(value)) of the best \(count); the current best is always kept"
        : "number \(rank) of the best \(count) by \(metric) (\(value))"
    case .stepMultiple(let interval):
      "step is a multiple of \(interval)"
    case .firstInInterval(let seconds, let start):
      "first checkpoint of the \(Self.format(seconds: seconds)) interval starting \(Self.format(time: start))"
    case .noKeepRule:
      "no retention rule is set"
    case .olderThanNewest(let count):
      "not among the newest \(count)"
    case .belowBest(let count, let metric, let value):
      "\(metric) \(value) is not among the best \(count)"
    case .metricMissing(let metric):
      "no \(metric) metric recorded, so only the other rules apply"
    case .metricNotFinite(let metric, let value):
      "\(metric) is \(value), which never counts as best"
    case .stepNotMultiple(let interval):
      "step is not a multiple of \(interval)"
    case .notFirstInInterval(let seconds, let start):
      "an earlier checkpoint is the first of the \(Self.format(seconds: seconds)) interval starting \(Self.format(time: start))"
    case .manifestUnreadable(let problem):
      "manifest unreadable, so metric and time rules pass over it: \(problem)"
    }
  }

  /// Formats an interval length in the largest whole unit: `90 s`, `30 min`, `6 h`, `1 d`.
  static func format(seconds: Double) -> String {
    // Int(_:) traps on infinities and huge values, so those print as plain numbers.
    guard seconds.isFinite, seconds.magnitude < 1e15 else { return "\(seconds) s" }
    for (unit, length) in [("d", 86_400.0), ("h", 3600.0), ("min", 60.0)]
    where seconds >= length && (seconds / length).rounded() == seconds / length {
      return "\(Int(seconds / length)) \(unit)"
    }
    return seconds.rounded() == seconds ? "\(Int(seconds)) s" : "\(seconds) s"
  }

  /// Formats seconds since 1970 as an ISO 8601 UTC time.
  static func format(time: Double) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: time))
  }
}
