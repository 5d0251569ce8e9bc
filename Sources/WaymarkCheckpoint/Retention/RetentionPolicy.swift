/// Which checkpoints to keep after each commit.
///
/// Each rule names checkpoints to keep, and a checkpoint is kept when any rule keeps it;
/// the rest are deleted. Regardless of the rules, the newest committed checkpoint and the
/// current best by ``bestBy`` are never deleted. A policy without any keep rule keeps
/// everything; that is the default.
///
/// ```swift
/// var policy = RetentionPolicy(keepLast: 3, keepEvery: 1000)
/// policy.keepBest = 2
/// policy.bestBy = MetricObjective(metric: "loss", mode: .min)
/// ```
///
/// ``RetentionPlanner`` turns a policy into a decision per checkpoint.
public struct RetentionPolicy: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Keep the newest N checkpoints by step; `nil` turns the rule off.
  public var keepLast: Int?

  /// Keep the best K checkpoints by ``bestBy``; `nil` turns the rule off. Needs ``bestBy``.
  public var keepBest: Int?

  /// The metric that ranks checkpoints for ``keepBest`` and defines the current best, which
  /// is never deleted. Checkpoints without a finite value of it are judged by the other
  /// rules only. Setting it without ``keepBest`` only protects the current best.
  public var bestBy: MetricObjective?

  /// Keep every checkpoint whose step is a multiple of M, forever; `nil` turns the rule off.
  public var keepEvery: Int64?

  /// Keep the first checkpoint, by step, of every interval of this many seconds of wall
  /// time since 1970-01-01T00:00:00Z; `nil` turns the rule off. 3600 keeps one per hour.
  public var keepOnePerIntervalSeconds: Double?

  /// Creates a policy from the rules given; the default keeps everything.
  public init(
    keepLast: Int? = nil, keepBest: Int? = nil, bestBy: MetricObjective? = nil,
    keepEvery: Int64? = nil, keepOnePerIntervalSeconds: Double? = nil
  ) {
    self.keepLast = keepLast
    self.keepBest = keepBest
    self.bestBy = bestBy
    self.keepEvery = keepEvery
    self.keepOnePerIntervalSeconds = keepOnePerIntervalSeconds
  }

  /// Keep every checkpoint.
  public static let keepAll = RetentionPolicy()

  /// Whether the policy has no keep rule, so it never deletes anything.
  public var keepsEverything: Bool {
    keepLast == nil && keepBest == nil && keepEvery == nil && keepOnePerIntervalSeconds == nil
  }

  /// Whether applying the policy needs each checkpoint's manifest (metrics or wall time),
  /// not only the steps in the directory names.
  var needsManifests: Bool {
    bestBy != nil || keepOnePerIntervalSeconds != nil
  }

  /// Checks every rule's value.
  ///
  /// - Throws: ``CheckpointError`` with `.invalidArgument` naming the bad value and the fix:
  ///   a count below 1, ``keepBest`` without ``bestBy``, an interval that is not a positive
  ///   finite number of seconds, or an invalid ``MetricObjective``.
  public func validate() throws {
    if let keepLast, keepLast < 1 {
      throw CheckpointError(
        .invalidArgument,
        "retention keepLast is \(keepLast); use 1 or more, or nil to turn the rule off")
    }
    if let keepBest {
      guard keepBest >= 1 else {
        throw CheckpointError(
          .invalidArgument,
          "retention keepBest is \(keepBest); use 1 or more, or nil to turn the rule off")
      }
      guard bestBy != nil else {
        throw CheckpointError(
          .invalidArgument,
          "retention keepBest is \(keepBest) but no metric is set; set bestBy to the metric that ranks checkpoints"
        )
      }
    }
    if let keepEvery, keepEvery < 1 {
      throw CheckpointError(
        .invalidArgument,
        "retention keepEvery is \(keepEvery); use a step interval of 1 or more, or nil to turn the rule off"
      )
    }
    if let seconds = keepOnePerIntervalSeconds, !(seconds.isFinite && seconds > 0) {
      throw CheckpointError(
        .invalidArgument,
        "retention keepOnePerIntervalSeconds is \(seconds); use a positive number of seconds, or nil to turn the rule off"
      )
    }
    try bestBy?.validate()
  }

  public var description: String {
    var rules: [String] = []
    if let keepLast { rules.append("the newest \(keepLast)") }
    if let keepBest, let bestBy { rules.append("the best \(keepBest) by \(bestBy)") }
    if let keepEvery { rules.append("every step that is a multiple of \(keepEvery)") }
    if let seconds = keepOnePerIntervalSeconds {
      rules.append("the first of every \(RetentionReason.format(seconds: seconds)) interval")
    }
    guard !rules.isEmpty else { return "keep everything" }
    var text = "keep " + rules.joined(separator: ", ")
    if let bestBy, keepBest == nil { text += ", and the current best by \(bestBy)" }
    return text
  }
}
