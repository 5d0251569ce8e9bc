/// An error from starting, logging to, resuming, finishing or reading a tracked run.
///
/// `code` is stable and meant for programs. `message` states what failed, on which path,
/// metric or value, and what to do next. The location fields name the run directory, file
/// or metric involved when there is one.
public struct TrackingError: Error, Sendable, CustomStringConvertible {
  /// The kind of failure; stable across releases.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) { self.name = name }

    /// The code's name, such as `invalidMetricName`.
    public var description: String { name }

    /// A metric name could not serve as a TensorBoard tag or a file name.
    public static let invalidMetricName = Code("invalidMetricName")
    /// An experiment name could not serve as a directory name.
    public static let invalidExperimentName = Code("invalidExperimentName")
    /// An argument to the API is out of range, such as a negative step.
    public static let invalidArgument = Code("invalidArgument")
    /// No run, experiment or runs directory exists at the path or with the id.
    public static let notFound = Code("notFound")
    /// A file of the run (`run.json`, `summary.json`, a JSON line) is not valid.
    public static let invalidRunFile = Code("invalidRunFile")
    /// The run is finished, so it accepts no more metrics or events.
    public static let runFinished = Code("runFinished")
    /// Another live process, or this one, has the run open.
    public static let runInUse = Code("runInUse")
    /// A value could not be encoded as JSON.
    public static let encodingFailed = Code("encodingFailed")
    /// A file-system call failed.
    public static let io = Code("io")
  }

  /// The kind of failure.
  public var code: Code
  /// Description of the failure, the value involved, and what to do next.
  public var message: String
  /// Path of the run directory or file involved.
  public var path: String?
  /// Metric name involved.
  public var metric: String?
  /// The error that caused this one.
  public var underlying: (any Error & Sendable)?

  /// Creates an error with a code, a message and the location it concerns.
  public init(
    _ code: Code, _ message: String, path: String? = nil, metric: String? = nil,
    underlying: (any Error & Sendable)? = nil
  ) {
    self.code = code
    self.message = message
    self.path = path
    self.metric = metric
    self.underlying = underlying
  }

  /// The message, followed by the path when the message does not name it, and the cause.
  public var description: String {
    var text = message
    if let path, !message.contains(path) { text += " (path: \(path))" }
    if let underlying { text += ": \(underlying)" }
    return text
  }

  /// Wraps a file-system failure, naming what the tracker was doing.
  static func io(_ action: String, path: String, _ error: any Error) -> TrackingError {
    if let tracking = error as? TrackingError { return tracking }
    return TrackingError(
      .io, "\(action) failed for '\(path)'; check that the directory exists and is writable",
      path: path, underlying: error)
  }
}
