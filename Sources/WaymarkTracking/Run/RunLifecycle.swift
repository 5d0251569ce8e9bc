/// The lifecycle of an open run as a value: running, finishing, finished.
///
/// ``Run`` consults it when `finish` is called, so that the first call does the
/// work, calls during the work wait for it, and later calls return at once.
struct RunLifecycle: Sendable, Equatable {
  enum State: Sendable, Equatable {
    case running
    case finishing(RunStatus)
    case finished(RunStatus)
  }

  /// Next step for the caller of `finish`.
  enum FinishAction: Sendable, Equatable {
    /// Flush, write the reports and the final `run.json` with this status.
    case begin(RunStatus)
    /// Another call is finishing the run; wait for it.
    case waitForOtherFinish
    /// The run is already finished; return.
    case returnFinished
  }

  private(set) var state: State = .running

  /// Whether `log` and `recordEvent` are still accepted.
  var isAcceptingRecords: Bool { state == .running }

  /// Handles a call to `finish(status:)`.
  ///
  /// - Throws: ``TrackingError`` with code `.invalidArgument` for status `running`.
  mutating func requestFinish(status: RunStatus) throws -> FinishAction {
    guard status != .running else {
      throw TrackingError(
        .invalidArgument,
        "finish(status: .running) is not a final status; use .completed, .failed or .interrupted")
    }
    switch state {
    case .running:
      state = .finishing(status)
      return .begin(status)
    case .finishing:
      return .waitForOtherFinish
    case .finished:
      return .returnFinished
    }
  }

  /// Records that the finishing work is done.
  mutating func completeFinish() {
    if case .finishing(let status) = state {
      state = .finished(status)
    }
  }
}
