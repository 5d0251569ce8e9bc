public import Foundation

/// A structured logger with a constant message and metadata under dotted keys.
///
/// The library logs through a `Logger` that the caller passes in; the default,
/// ``Logger/silent``, drops every record. The command line installs a handler that
/// prints to standard error.
public struct Logger: Sendable {
  /// Severity of a record, ordered from the most verbose to the most severe.
  public enum Level: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case trace
    case debug
    case info
    case notice
    case warning
    case error
    case critical

    public static func < (lhs: Level, rhs: Level) -> Bool {
      lhs.rawValue < rhs.rawValue
    }

    public var description: String {
      switch self {
      case .trace: "trace"
      case .debug: "debug"
      case .info: "info"
      case .notice: "notice"
      case .warning: "warning"
      case .error: "error"
      case .critical: "critical"
      }
    }
  }

  /// One emitted log record.
  public struct Record: Sendable {
    public var level: Level
    public var message: String
    public var metadata: [String: String]
    public var label: String
    public var date: Date
  }

  /// Receives every record at or above the logger's level.
  public typealias Handler = @Sendable (Record) -> Void

  /// Name of the component that logs, such as `waymark.checkpoint`.
  public var label: String

  /// Records below this level are dropped before the handler runs.
  public var logLevel: Level

  /// Metadata attached to every record this logger emits.
  public var metadata: [String: String]

  private let handler: Handler?

  /// Creates a logger that passes records at or above `logLevel` to `handler`.
  public init(
    label: String, logLevel: Level = .info, metadata: [String: String] = [:],
    handler: @escaping Handler
  ) {
    self.label = label
    self.logLevel = logLevel
    self.metadata = metadata
    self.handler = handler
  }

  private init(silentLabel: String) {
    self.label = silentLabel
    self.logLevel = .critical
    self.metadata = [:]
    self.handler = nil
  }

  /// A logger that drops every record; the library's default.
  public static let silent = Logger(silentLabel: "waymark.silent")

  /// Creates a logger that writes one line per record to standard error.
  public static func standardError(label: String, logLevel: Level = .info) -> Logger {
    Logger(label: label, logLevel: logLevel) { record in
      let fields = record.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
      let suffix = fields.isEmpty ? "" : " " + fields.joined(separator: " ")
      let line = "\(record.level): \(record.message)\(suffix)\n"
      FileHandle.standardError.write(Data(line.utf8))
    }
  }

  /// Emits a record when `level` is at or above the logger's level.
  public func log(
    _ level: Level, _ message: @autoclosure () -> String, metadata extra: [String: String] = [:]
  ) {
    guard let handler, level >= logLevel else { return }
    let merged = metadata.merging(extra) { _, new in new }
    handler(Record(level: level, message: message(), metadata: merged, label: label, date: Date()))
  }

  /// Emits a debug record.
  public func debug(_ message: @autoclosure () -> String, metadata: [String: String] = [:]) {
    log(.debug, message(), metadata: metadata)
  }

  /// Emits an info record.
  public func info(_ message: @autoclosure () -> String, metadata: [String: String] = [:]) {
    log(.info, message(), metadata: metadata)
  }

  /// Emits a notice record.
  public func notice(_ message: @autoclosure () -> String, metadata: [String: String] = [:]) {
    log(.notice, message(), metadata: metadata)
  }

  /// Emits a warning record.
  public func warning(_ message: @autoclosure () -> String, metadata: [String: String] = [:]) {
    log(.warning, message(), metadata: metadata)
  }

  /// Emits an error record.
  public func error(_ message: @autoclosure () -> String, metadata: [String: String] = [:]) {
    log(.error, message(), metadata: metadata)
  }

  /// Returns a copy whose records carry `value` under `key`.
  public func with(_ key: String, _ value: String) -> Logger {
    var copy = self
    copy.metadata[key] = value
    return copy
  }
}
