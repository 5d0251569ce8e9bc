/// The kind of a ``RunEvent``: one of the tracker's own kinds or any name the caller picks.
public struct EventKind: RawRepresentable, Sendable, Hashable, Codable, ExpressibleByStringLiteral,
  CustomStringConvertible
{
  /// The kind's name, such as `started`.
  public var rawValue: String

  /// Creates a kind from its name.
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Creates a kind from a string literal.
  public init(stringLiteral value: String) { self.rawValue = value }

  /// The kind's name.
  public var description: String { rawValue }

  /// Decodes the kind from a plain string.
  public init(from decoder: any Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(String.self)
  }

  /// Encodes the kind as a plain string.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  /// The run started.
  public static let started: EventKind = "started"
  /// The run resumed after a crash or an interruption.
  public static let resumed: EventKind = "resumed"
  /// The run finished with a status.
  public static let finished: EventKind = "finished"
  /// An error was recorded; the event carries ``ErrorDetails``.
  public static let error: EventKind = "error"
  /// Something went wrong that the run survived, such as a failed background probe.
  public static let warning: EventKind = "warning"
  /// The code snapshot left out files because of its byte cap.
  public static let codeSnapshotTruncated: EventKind = "codeSnapshotTruncated"
  /// The code snapshot completed.
  public static let codeSnapshotCompleted: EventKind = "codeSnapshotCompleted"
  /// A checkpoint was saved.
  public static let checkpoint: EventKind = "checkpoint"
}
