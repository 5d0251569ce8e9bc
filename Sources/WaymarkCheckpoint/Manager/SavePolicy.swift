import Foundation

/// When the training loop saves: every N steps, every T seconds, and when a metric improves.
///
/// Any rule that fires makes a save due. A policy without rules never saves; that is the
/// default, for loops that call `save` themselves.
///
/// ```swift
/// var options = CheckpointManager.Options()
/// options.savePolicy = SavePolicy(
///   everySteps: 1000, everySeconds: 1800, onImprovement: MetricObjective(metric: "val_loss"))
/// ```
public struct SavePolicy: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Save when the step reaches a multiple of this many steps that is later than the last
  /// save; `nil` turns the rule off. With 1000, a loop that calls at every step saves at
  /// steps 1000, 2000, …; one that calls at steps 999 and 1002 saves at 1002.
  public var everySteps: Int64?

  /// Save when this many seconds of monotonic time have passed since the last save, or
  /// since the scheduler started; `nil` turns the rule off.
  public var everySeconds: Double?

  /// Save when this metric improves on the best value saved so far by at least its
  /// `minimumImprovement`; `nil` turns the rule off. The first finite value is an
  /// improvement when nothing was saved with the metric before. Missing, NaN and infinite
  /// values never are.
  public var onImprovement: MetricObjective?

  /// Creates a policy from the rules given; the default has none and never saves.
  public init(
    everySteps: Int64? = nil, everySeconds: Double? = nil, onImprovement: MetricObjective? = nil
  ) {
    self.everySteps = everySteps
    self.everySeconds = everySeconds
    self.onImprovement = onImprovement
  }

  /// Whether at least one rule is set.
  public var hasRule: Bool {
    everySteps != nil || everySeconds != nil || onImprovement != nil
  }

  /// Checks every rule's value.
  ///
  /// - Throws: ``CheckpointError`` with `.invalidArgument` naming the bad value: a step
  ///   interval below 1, a time interval that is not a positive finite number of seconds,
  ///   or an invalid ``MetricObjective``.
  public func validate() throws {
    if let everySteps, everySteps < 1 {
      throw CheckpointError(
        .invalidArgument,
        "save policy everySteps is \(everySteps); use 1 or more, or nil to turn the rule off")
    }
    if let everySeconds, !(everySeconds.isFinite && everySeconds > 0) {
      throw CheckpointError(
        .invalidArgument,
        "save policy everySeconds is \(everySeconds); use a positive number of seconds, or nil to turn the rule off"
      )
    }
    try onImprovement?.validate()
  }

  public var description: String {
    var rules: [String] = []
    if let everySteps { rules.append("every \(everySteps) steps") }
    if let everySeconds { rules.append("every \(RetentionReason.format(seconds: everySeconds))") }
    if let onImprovement { rules.append("when \(onImprovement) improves") }
    return rules.isEmpty ? "never save" : "save " + rules.joined(separator: ", ")
  }
}

/// The reason one rule makes a save due or not.
public enum SaveReason: Sendable, Hashable, CustomStringConvertible {
  /// The step reached a multiple of the step interval after the last save.
  case stepIntervalReached(every: Int64)
  /// The step has not reached the next multiple of the step interval.
  case stepIntervalNotReached(every: Int64, nextStep: Int64)
  /// The time interval has passed since the last save.
  case timeIntervalElapsed(everySeconds: Double, elapsedSeconds: Double)
  /// The time interval has not passed yet.
  case timeIntervalNotElapsed(everySeconds: Double, elapsedSeconds: Double)
  /// The metric improved on the best saved value, or is the first finite one when
  /// `previousBest` is `nil`.
  case metricImproved(metric: String, value: Double, previousBest: Double?)
  /// The metric did not improve on the best saved value by the minimum improvement.
  case metricNotImproved(metric: String, value: Double, best: Double)
  /// The metric was not passed.
  case metricMissing(metric: String)
  /// The metric is NaN or infinite, which never counts as an improvement.
  case metricNotFinite(metric: String, value: Double)
  /// The step is not after the last saved step.
  case stepNotAfterLastSave(lastSavedStep: Int64)
  /// The policy has no rule.
  case noRule
  /// The training loop is stopping (Ctrl-C, SIGTERM or a stop request) and saves its last
  /// state whatever the rules say.
  case stopRequested

  /// Whether this reason makes a save due.
  public var makesDue: Bool {
    switch self {
    case .stepIntervalReached, .timeIntervalElapsed, .metricImproved, .stopRequested: true
    default: false
    }
  }

  public var description: String {
    switch self {
    case .stepIntervalReached(let every):
      "reached a multiple of \(every) steps"
    case .stepIntervalNotReached(let every, let nextStep):
      "next multiple of \(every) steps is step \(nextStep)"
    case .timeIntervalElapsed(let every, let elapsed):
      "\(Self.seconds(elapsed)) since the last save, interval \(Self.seconds(every))"
    case .timeIntervalNotElapsed(let every, let elapsed):
      "only \(Self.seconds(elapsed)) of \(Self.seconds(every)) since the last save"
    case .metricImproved(let metric, let value, let previousBest?):
      "\(metric) improved to \(value) from \(previousBest)"
    case .metricImproved(let metric, let value, nil):
      "first \(metric) value \(value)"
    case .metricNotImproved(let metric, let value, let best):
      "\(metric) \(value) does not improve on \(best) by the minimum improvement"
    case .metricMissing(let metric):
      "no \(metric) metric was passed"
    case .metricNotFinite(let metric, let value):
      "\(metric) is \(value), which never counts as an improvement"
    case .stepNotAfterLastSave(let lastSavedStep):
      "step is not after the last saved step \(lastSavedStep)"
    case .noRule:
      "the save policy has no rule"
    case .stopRequested:
      "the training loop is stopping"
    }
  }

  private static func seconds(_ value: Double) -> String {
    String(format: "%.1f s", value)
  }
}

/// Whether a save is due at one step, with the reasons.
public struct SaveDecision: Sendable, Hashable, CustomStringConvertible {
  /// The step the decision is for.
  public var step: Int64
  /// Whether the policy requests a save at this step.
  public var isDue: Bool
  /// When due, the rules that fired; otherwise every rule's reason for not firing.
  public var reasons: [SaveReason]

  public init(step: Int64, isDue: Bool, reasons: [SaveReason]) {
    self.step = step
    self.isDue = isDue
    self.reasons = reasons
  }

  public var description: String {
    let text = reasons.map(\.description).joined(separator: "; ")
    return (isDue ? "save step \(step): " : "skip step \(step): ") + text
  }
}

/// The schedule that decides, step by step, when a ``SavePolicy`` requests a save.
///
/// A plain value: ``decide(step:metrics:nowSeconds:)`` returns the decision, and the owner
/// calls ``recordSave(step:metrics:nowSeconds:)`` only once a save is accepted, so a save
/// that backpressure skips stays due at the next step. Time is passed in as seconds of a
/// monotonic clock, so tests need no sleeping.
public struct SaveScheduler: Sendable, Hashable {
  /// The rules.
  public let policy: SavePolicy
  /// The last step saved, or the step resumed from.
  public private(set) var lastSavedStep: Int64?
  /// Monotonic seconds of the last save, or of the scheduler's start.
  public private(set) var lastSaveSeconds: Double
  /// The best value of the improvement metric saved so far.
  public private(set) var bestValue: Double?
  /// The first step decided on, which counts as the last save for the step interval until
  /// the first save.
  private var firstStep: Int64?

  /// Starts a schedule at `startSeconds`.
  ///
  /// - Parameters:
  ///   - policy: The rules.
  ///   - startSeconds: Monotonic seconds now; the time interval counts from here.
  ///   - resumedStep: Step of the checkpoint the run resumed from, if any; the step
  ///     interval counts from it.
  ///   - resumedBestValue: Best saved value of the improvement metric, if any; later values
  ///     must improve on it.
  public init(
    policy: SavePolicy, startSeconds: Double, resumedStep: Int64? = nil,
    resumedBestValue: Double? = nil
  ) {
    self.policy = policy
    self.lastSaveSeconds = startSeconds
    self.lastSavedStep = resumedStep
    self.bestValue = resumedBestValue
  }

  /// Decides whether a save is due at `step` with `metrics`.
  ///
  /// The first call remembers its step as the start of the step interval when nothing was
  /// saved or resumed yet; nothing else changes.
  public mutating func decide(step: Int64, metrics: [String: Double], nowSeconds: Double)
    -> SaveDecision
  {
    if firstStep == nil { firstStep = step }
    guard policy.hasRule else {
      return SaveDecision(step: step, isDue: false, reasons: [.noRule])
    }
    if let lastSavedStep, step <= lastSavedStep {
      return SaveDecision(
        step: step, isDue: false, reasons: [.stepNotAfterLastSave(lastSavedStep: lastSavedStep)])
    }

    var reasons: [SaveReason] = []
    if let every = policy.everySteps {
      let reference = lastSavedStep ?? firstStep ?? step
      let nextStep = (reference.dividedRoundingDown(by: every) + 1) * every
      reasons.append(
        step >= nextStep
          ? .stepIntervalReached(every: every)
          : .stepIntervalNotReached(every: every, nextStep: nextStep))
    }
    if let every = policy.everySeconds {
      let elapsed = nowSeconds - lastSaveSeconds
      reasons.append(
        elapsed >= every
          ? .timeIntervalElapsed(everySeconds: every, elapsedSeconds: elapsed)
          : .timeIntervalNotElapsed(everySeconds: every, elapsedSeconds: elapsed))
    }
    if let objective = policy.onImprovement {
      reasons.append(improvementReason(objective, metrics: metrics))
    }

    let firing = reasons.filter(\.makesDue)
    return firing.isEmpty
      ? SaveDecision(step: step, isDue: false, reasons: reasons)
      : SaveDecision(step: step, isDue: true, reasons: firing)
  }

  /// Records that the save of `step` was accepted, so the intervals restart and its metric
  /// becomes the best when it improves on it.
  public mutating func recordSave(step: Int64, metrics: [String: Double], nowSeconds: Double) {
    lastSavedStep = max(step, lastSavedStep ?? step)
    lastSaveSeconds = nowSeconds
    guard let objective = policy.onImprovement, let value = objective.rankableValue(in: metrics)
    else { return }
    if let bestValue, !objective.isImprovement(value, over: bestValue) { return }
    bestValue = value
  }

  private func improvementReason(_ objective: MetricObjective, metrics: [String: Double])
    -> SaveReason
  {
    guard let value = metrics[objective.metric] else {
      return .metricMissing(metric: objective.metric)
    }
    guard value.isFinite else {
      return .metricNotFinite(metric: objective.metric, value: value)
    }
    guard let bestValue else {
      return .metricImproved(metric: objective.metric, value: value, previousBest: nil)
    }
    return objective.isImprovement(value, over: bestValue)
      ? .metricImproved(metric: objective.metric, value: value, previousBest: bestValue)
      : .metricNotImproved(metric: objective.metric, value: value, best: bestValue)
  }
}

extension Int64 {
  /// Floor division, so negative steps round toward negative infinity.
  fileprivate func dividedRoundingDown(by divisor: Int64) -> Int64 {
    let quotient = self / divisor
    return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
  }
}
