/// An error recorded in a run: its type, message, context and the call stack where it was
/// recorded.
public struct ErrorDetails: Sendable, Hashable, Codable {
  /// The Swift type of the error, such as `CheckpointError`.
  public var type: String
  /// The error's description.
  public var message: String
  /// Key-value pairs the caller attached, such as the file or batch involved.
  public var context: [String: String]
  /// Symbols of the call stack where the error was recorded (`Thread.callStackSymbols`).
  public var callStack: [String]

  /// Creates error details.
  public init(type: String, message: String, context: [String: String], callStack: [String]) {
    self.type = type
    self.message = message
    self.context = context
    self.callStack = callStack
  }
}
