public import Foundation

/// One resume of a run.
public struct ResumeRecord: Sendable, Hashable, Codable {
  /// When the run resumed.
  public var time: Date
  /// Process id of the resuming process.
  public var pid: Int32
  /// Host of the resuming process.
  public var host: String
  /// The step the caller gave as the first step the resumed run repeats.
  public var fromStep: Int?
  /// The status the run had before it resumed, as a reader reported it.
  public var previousStatus: ReportedRunStatus
  /// Command-line arguments of the resuming process.
  public var arguments: [String]
  /// Machine, toolchain and source facts of the resuming process, which may differ from
  /// those of the first start.
  public var environment: EnvironmentMetadata?

  /// Creates a resume entry.
  public init(
    time: Date, pid: Int32, host: String, fromStep: Int?, previousStatus: ReportedRunStatus,
    arguments: [String], environment: EnvironmentMetadata? = nil
  ) {
    self.time = time
    self.pid = pid
    self.host = host
    self.fromStep = fromStep
    self.previousStatus = previousStatus
    self.arguments = arguments
    self.environment = environment
  }
}
