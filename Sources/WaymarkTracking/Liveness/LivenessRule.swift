import Foundation

/// The rule that distinguishes a live run from a crashed one.
///
/// A run whose stored status is `running` is reported as crashed when either:
/// - its heartbeat is older than ``staleAfterSeconds`` (30 seconds by default, six beats at
///   the default interval of 5 seconds), or missing while the run started more than that
///   long ago, or
/// - its heartbeat names this host and a process id that no longer exists (`kill(pid, 0)`
///   fails with `ESRCH`).
///
/// Any other stored status is reported as it is.
///
/// - Note: A process id can be reused by an unrelated process after the run's process
///   dies. The stale-heartbeat test still catches such a run once the heartbeat is older
///   than ``staleAfterSeconds``. Clocks of different hosts are compared as they are, so a
///   host whose clock runs behind by more than the threshold makes its runs look crashed.
public struct LivenessRule: Sendable {
  /// Age in seconds after which a heartbeat is stale.
  public var staleAfterSeconds: Double
  /// The current time, in seconds since the Unix epoch.
  public var now: Double
  /// Host name of the machine doing the check.
  public var currentHost: String
  /// Returns whether a process with the given id exists on this host.
  public var isProcessAlive: @Sendable (Int32) -> Bool

  /// Creates the rule with the current time, this host and `kill(pid, 0)`.
  public init(staleAfterSeconds: Double = 30) {
    self.init(
      staleAfterSeconds: staleAfterSeconds, now: Date().timeIntervalSince1970,
      currentHost: ProcessIdentity.hostName, isProcessAlive: ProcessIdentity.isProcessAlive)
  }

  /// Creates the rule with an explicit clock, host and process check, for tests.
  public init(
    staleAfterSeconds: Double, now: Double, currentHost: String,
    isProcessAlive: @escaping @Sendable (Int32) -> Bool
  ) {
    self.staleAfterSeconds = staleAfterSeconds
    self.now = now
    self.currentHost = currentHost
    self.isProcessAlive = isProcessAlive
  }

  /// Returns the status a reader reports for a run.
  ///
  /// - Parameters:
  ///   - status: The status stored in `run.json`.
  ///   - startWallTime: When the run started or last resumed, in seconds since the Unix epoch.
  ///   - heartbeat: The content of `heartbeat.json`, or `nil` when it is missing or invalid.
  public func reportedStatus(
    stored status: RunStatus, startWallTime: Double, heartbeat: Heartbeat?
  ) -> ReportedRunStatus {
    guard status == .running else { return ReportedRunStatus(status) }
    guard let heartbeat else {
      return now - startWallTime > staleAfterSeconds ? .crashed : .running
    }
    if now - heartbeat.wallTime > staleAfterSeconds { return .crashed }
    if heartbeat.host == currentHost, !isProcessAlive(heartbeat.pid) { return .crashed }
    return .running
  }
}
