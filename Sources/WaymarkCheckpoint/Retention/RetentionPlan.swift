/// Retention's decision for one checkpoint, with its reasons.
public struct RetentionDecision: Sendable, Hashable {
  /// Keep or delete.
  public enum Action: String, Sendable, Hashable, Codable {
    case keep
    case delete
  }

  /// Training step of the checkpoint.
  public var step: Int64
  /// Path of the checkpoint directory.
  public var path: String
  /// Keep or delete.
  public var action: Action
  /// For a kept checkpoint, every rule that keeps it; for a deleted one, every rule that
  /// could have kept it and why it did not.
  public var reasons: [RetentionReason]

  public init(step: Int64, path: String, action: Action, reasons: [RetentionReason]) {
    self.step = step
    self.path = path
    self.action = action
    self.reasons = reasons
  }

  /// Whether the checkpoint stays.
  public var isKept: Bool { action == .keep }

  /// The reasons as one line.
  public var reasonText: String {
    reasons.map(\.description).joined(separator: "; ")
  }
}

/// A decision for every checkpoint of a store, oldest step first.
public struct RetentionPlan: Sendable, Hashable {
  /// One decision per checkpoint, oldest step first.
  public var decisions: [RetentionDecision]
  /// Step of the newest checkpoint, which is always kept; `nil` for an empty store.
  public var newestStep: Int64?
  /// Step of the current best by the policy's metric, which is always kept. It is `nil`
  /// when the policy has no metric or no checkpoint has a finite value of it.
  public var bestStep: Int64?

  public init(decisions: [RetentionDecision], newestStep: Int64?, bestStep: Int64?) {
    self.decisions = decisions
    self.newestStep = newestStep
    self.bestStep = bestStep
  }

  /// The checkpoints that stay.
  public var kept: [RetentionDecision] { decisions.filter(\.isKept) }

  /// The checkpoints to delete.
  public var deleted: [RetentionDecision] { decisions.filter { !$0.isKept } }
}
