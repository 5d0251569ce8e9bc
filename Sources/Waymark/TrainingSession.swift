import Synchronization
public import WaymarkCheckpoint
import WaymarkCore
public import WaymarkTracking

/// A training run together with its checkpoint store: what a training loop talks to.
///
/// Create one with ``withTrainingSession(options:config:_:)``, which also ends the run with
/// the right status. Logging never waits for the disk; saving waits only for backpressure.
public final class TrainingSession: Sendable {
  /// The tracked run: metrics, events, errors, profile.
  public let run: Run

  /// The run's checkpoint manager, on `<run>/checkpoints`.
  public let checkpoints: CheckpointManager

  /// The checkpoint the session resumed from, or `nil` for a fresh run.
  public let restored: LoadedCheckpoint?

  private let stopRequest = Atomic<Bool>(false)
  private let lastSavedStep = Mutex<Int64?>(nil)

  init(run: Run, checkpoints: CheckpointManager, restored: LoadedCheckpoint?) {
    self.run = run
    self.checkpoints = checkpoints
    self.restored = restored
    lastSavedStep.withLock { $0 = restored?.step }
  }

  /// The number of steps already done: the restored checkpoint's step, or 0. A checkpoint of
  /// step N contains the state after N steps, so log and save the next step as N + 1.
  public var startStep: Int64 {
    restored?.step ?? 0
  }

  /// Whether Ctrl-C, SIGTERM or ``requestStop()`` asked the loop to stop. The next
  /// ``saveIfDue(step:metrics:state:)`` then saves whatever the policy decides, so the loop can
  /// break right after it.
  public var isStopRequested: Bool {
    stopRequest.load(ordering: .relaxed)
  }

  /// Asks the loop to stop; the run will end as `interrupted`.
  public func requestStop() {
    stopRequest.store(true, ordering: .relaxed)
  }

  /// Buffers metric values for `step`; never waits for the disk.
  ///
  /// - Throws: ``TrackingError`` for an invalid metric name or a negative step.
  public func log(step: Int64, epoch: Double? = nil, _ values: [String: Double]) throws {
    try run.log(values, step: Int(step), epoch: epoch)
  }

  /// Saves when the save policy finds a save due, or when a stop was requested and this
  /// step is not saved yet.
  ///
  /// `state` is evaluated only when a save happens. The call returns once the state is
  /// captured; the write continues in the background.
  ///
  /// - Returns: The decision and, when saved, the ticket.
  @discardableResult
  public func saveIfDue(
    step: Int64, metrics: [String: Double] = [:], isolation: isolated (any Actor)? = #isolation,
    state: () throws -> TrainingState
  ) async throws -> CheckpointManager.ScheduledSave {
    if isStopRequested, lastSavedStep.withLock({ $0 }) != step {
      let ticket = try await save(step: step, state: state(), metrics: metrics)
      let decision = SaveDecision(step: step, isDue: true, reasons: [.stopRequested])
      return CheckpointManager.ScheduledSave(decision: decision, ticket: ticket)
    }
    let decision = try await checkpoints.saveDecision(step: step, metrics: metrics)
    guard decision.isDue else {
      return CheckpointManager.ScheduledSave(decision: decision, ticket: nil)
    }
    let scheduled = try await checkpoints.saveIfDue(step: step, state: state(), metrics: metrics)
    if scheduled.isSaved {
      lastSavedStep.withLock { $0 = step }
    }
    return scheduled
  }

  /// Saves now, whatever the policy decides.
  @discardableResult
  public func save(step: Int64, state: TrainingState, metrics: [String: Double] = [:]) async throws
    -> CheckpointManager.SaveTicket
  {
    let ticket = try await checkpoints.save(step: step, state: state, metrics: metrics)
    if ticket.isAccepted {
      lastSavedStep.withLock { $0 = step }
    }
    return ticket
  }
}
