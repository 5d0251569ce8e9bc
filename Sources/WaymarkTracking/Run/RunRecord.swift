public import Foundation
public import WaymarkCore

/// The content of `run.json`: what the run is, how it was configured, and how it ended.
///
/// The run rewrites the file atomically (temporary file, fsync, rename, fsync of the
/// directory) whenever a field changes: at start, when the background probes and the code
/// snapshot finish, on resume and at the end.
public struct RunRecord: Sendable, Hashable, Codable {
  /// Version of this file's layout; readers reject newer versions.
  public var formatVersion: Int
  /// Run id, such as `20261204-200455-3f9a2c`.
  public var id: String
  /// Display name; the id unless the caller gave one.
  public var name: String
  /// Experiment the run belongs to; the name of its parent directory.
  public var experiment: String
  /// Free text from the caller.
  public var description: String
  /// Labels for filtering.
  public var tags: [String]
  /// The config as JSON.
  public var config: JSONValue
  /// `sha256:` and the SHA-256 of the config's canonical JSON (see ``ConfigHash``).
  public var configHash: String
  /// Stored status; readers report `crashed` on top of it (see ``LivenessRule``).
  public var status: RunStatus
  /// When the run first started.
  public var startTime: Date
  /// When the run finished, for a finished run.
  public var endTime: Date?
  /// Seconds from the first start to the end, for a finished run.
  public var durationSeconds: Double?
  /// Reason the run failed, when the caller gave a message.
  public var errorMessage: String?
  /// Process id of the process that started or last resumed the run.
  public var pid: Int32
  /// Host of that process.
  public var host: String
  /// Each time the run resumed.
  public var resumes: [ResumeRecord]
  /// Machine, toolchain and source facts.
  public var environment: EnvironmentMetadata
  /// Steps between metric logs, when the caller gave it.
  public var metricIntervalSteps: Int?
  /// Steps between checkpoints, when the caller gave it.
  public var checkpointIntervalSteps: Int?
  /// Outcome and counts of the code snapshot, when a snapshot was requested.
  public var codeSnapshot: CodeSnapshotReport?

  /// The layout version this library writes.
  public static let currentFormatVersion = 1

  /// When the run last started or resumed.
  public var lastStartTime: Date {
    resumes.last?.time ?? startTime
  }
}
