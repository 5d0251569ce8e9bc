/// The status a reader reports: the stored status, or `crashed` for a run stored as
/// `running` whose process is gone (see ``LivenessRule``).
public enum ReportedRunStatus: String, Sendable, Hashable, Codable, CaseIterable {
  /// The run is in progress and its heartbeat is fresh.
  case running
  /// The run finished normally.
  case completed
  /// The run ended with an error.
  case failed
  /// The run was stopped by a signal.
  case interrupted
  /// The run is stored as running, but its heartbeat is stale or its process is gone.
  case crashed

  /// Creates the reported form of a stored status.
  public init(_ status: RunStatus) {
    switch status {
    case .running: self = .running
    case .completed: self = .completed
    case .failed: self = .failed
    case .interrupted: self = .interrupted
    }
  }
}
