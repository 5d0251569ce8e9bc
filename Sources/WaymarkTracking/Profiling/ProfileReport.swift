public import WaymarkCore

/// The content of `profile.json`: the profiler's per-operation statistics.
public struct ProfileReport: Sendable, Hashable, Codable {
  /// Id of the run.
  public var runID: String
  /// Seconds since the Unix epoch when the file was written.
  public var wallTime: Double
  /// One entry per operation, largest total time first.
  public var operations: [ProfileOperationSummary]

  /// Creates the file's content.
  public init(runID: String, wallTime: Double, operations: [ProfileOperationSummary]) {
    self.runID = runID
    self.wallTime = wallTime
    self.operations = operations
  }
}
