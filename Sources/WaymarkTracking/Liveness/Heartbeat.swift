public import Foundation

/// The content of `heartbeat.json`: which process runs the run, on which host, and when it
/// last showed it was alive.
///
/// The writer thread rewrites the file every few seconds (``RunOptions/heartbeatIntervalSeconds``)
/// by writing a temporary file and renaming it, so a reader never sees a partial file.
public struct Heartbeat: Sendable, Hashable, Codable {
  /// Id of the run.
  public var runID: String
  /// Process id of the process that writes the run.
  public var pid: Int32
  /// Host name of the machine the process runs on.
  public var host: String
  /// Seconds since the Unix epoch of the last beat.
  public var wallTime: Double
  /// The same moment as ``wallTime``, for people reading the file.
  public var time: Date

  /// Creates a heartbeat at `wallTime`.
  public init(runID: String, pid: Int32, host: String, wallTime: Double) {
    self.runID = runID
    self.pid = pid
    self.host = host
    self.wallTime = wallTime
    self.time = Date(timeIntervalSince1970: wallTime)
  }
}
