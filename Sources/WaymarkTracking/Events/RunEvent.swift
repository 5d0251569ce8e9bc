public import WaymarkCore

/// One line of `events.jsonl`: something that happened to a run, with an increasing id.
///
/// Ids start at 1 and increase by one per event; a resumed run continues the numbering.
public struct RunEvent: Sendable, Hashable, Codable {
  /// Position of the event in the run, starting at 1.
  public var id: Int
  /// Seconds since the Unix epoch when the event was recorded.
  public var wallTime: Double
  /// Kind of event, such as `started` or `error`.
  public var kind: EventKind
  /// A sentence for people.
  public var message: String
  /// Training step the event belongs to, when there is one.
  public var step: Int?
  /// Extra fields for programs.
  public var data: [String: JSONValue]?
  /// The error, for events of kind ``EventKind/error``.
  public var error: ErrorDetails?

  /// Creates an event.
  public init(
    id: Int, wallTime: Double, kind: EventKind, message: String, step: Int? = nil,
    data: [String: JSONValue]? = nil, error: ErrorDetails? = nil
  ) {
    self.id = id
    self.wallTime = wallTime
    self.kind = kind
    self.message = message
    self.step = step
    self.data = data
    self.error = error
  }
}
