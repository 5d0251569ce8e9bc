import WaymarkCore

extension CheckpointManager {
  /// The outcome of ``saveIfDue(step:state:metrics:)``: the policy's decision and, when a
  /// save was due, its ticket.
  public struct ScheduledSave: Sendable {
    /// Whether the save policy asked for a save, and why.
    public var decision: SaveDecision
    /// The ticket of the save when one was due; its `skipReason` is set when backpressure
    /// skipped it.
    public var ticket: SaveTicket?

    /// Creates an outcome; callers that add their own save rules build one to report.
    public init(decision: SaveDecision, ticket: SaveTicket?) {
      self.decision = decision
      self.ticket = ticket
    }

    /// Whether a save was accepted and will be written.
    public var isSaved: Bool { ticket?.isAccepted == true }

    /// One line saying what happened and why.
    public var summary: String {
      guard let ticket else { return decision.description }
      if let skipReason = ticket.skipReason {
        return decision.description + "; skipped by backpressure: " + skipReason
      }
      return decision.description
    }
  }

  /// Saves `state` when ``Options/savePolicy`` makes a save due at `step`, and reports why
  /// it saved or skipped.
  ///
  /// The first call seeds the schedule from the store: the step interval counts from the
  /// newest committed step, and the improvement rule compares against the best committed
  /// value of its metric. A save that backpressure skips does not count as a save, so the
  /// next call is due again.
  ///
  /// - Parameters:
  ///   - step: Training step; zero or positive.
  ///   - state: Tensors and non-tensor state, captured only when a save is due.
  ///   - metrics: Values recorded in the manifest; the improvement rule reads its metric
  ///     here.
  /// - Returns: The decision and, when a save was due, the ticket to pass to
  ///   ``waitForCommit(of:)``.
  /// - Throws: ``CheckpointError`` with `.invalidArgument` when the save policy has no rule,
  ///   and the errors of ``save(step:state:metrics:)``.
  public func saveIfDue(step: Int64, state: TrainingState, metrics: [String: Double] = [:])
    async throws -> ScheduledSave
  {
    let decision = try await saveDecision(step: step, metrics: metrics)
    guard decision.isDue else { return ScheduledSave(decision: decision, ticket: nil) }
    let ticket = try await save(step: step, state: state, metrics: metrics)
    if ticket.isAccepted {
      saveScheduler?.recordSave(step: step, metrics: metrics, nowSeconds: Self.nowSeconds())
    }
    return ScheduledSave(decision: decision, ticket: ticket)
  }

  /// Decides whether ``Options/savePolicy`` requests a save at `step`, without saving.
  ///
  /// Use it to skip building the state when no save is due; then call
  /// ``saveIfDue(step:state:metrics:)`` with the same step, which decides the same way.
  ///
  /// - Throws: ``CheckpointError`` with `.invalidArgument` when the save policy has no rule.
  public func saveDecision(step: Int64, metrics: [String: Double] = [:]) async throws
    -> SaveDecision
  {
    var scheduler = try await startedScheduler()
    let decision = scheduler.decide(step: step, metrics: metrics, nowSeconds: Self.nowSeconds())
    saveScheduler = scheduler
    return decision
  }

  /// Returns the schedule, seeding it from the store on first use.
  private func startedScheduler() async throws -> SaveScheduler {
    if let saveScheduler { return saveScheduler }
    let policy = options.savePolicy
    guard policy.hasRule else {
      throw CheckpointError(
        .invalidArgument,
        "saveIfDue needs a save policy, but Options.savePolicy has no rule; set everySteps, everySeconds or onImprovement, or call save directly"
      )
    }
    try policy.validate()
    let store = self.store
    let newestStep = try await store.committedCheckpoints().last?.step
    var bestValue: Double?
    if let objective = policy.onImprovement {
      bestValue = try await store.best(by: objective)?.value
    }
    // Another call may have seeded the schedule while this one read the store.
    if let saveScheduler { return saveScheduler }
    let scheduler = SaveScheduler(
      policy: policy, startSeconds: Self.nowSeconds(), resumedStep: newestStep,
      resumedBestValue: bestValue)
    saveScheduler = scheduler
    return scheduler
  }

  private static func nowSeconds() -> Double {
    Double(MonotonicClock.nanoseconds()) / 1e9
  }
}
