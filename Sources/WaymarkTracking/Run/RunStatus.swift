/// The status stored in `run.json`.
public enum RunStatus: String, Sendable, Hashable, Codable, CaseIterable {
  /// The run is in progress, or its process died without finishing it.
  case running
  /// The run finished normally.
  case completed
  /// The run ended with an error.
  case failed
  /// The run was stopped by a signal such as SIGINT or SIGTERM.
  case interrupted
}
