import Foundation
public import WaymarkCore

extension Run {
  /// Buffers one metric value. Callable from synchronous code and from any thread.
  ///
  /// The call validates the name, takes one uncontended lock and appends to a buffer. It
  /// never waits for the disk or the actor. The writer thread appends the value to
  /// `metrics.jsonl` and the TensorBoard file within about one flush interval; call
  /// ``flush()`` to wait until it is on disk. NaN and the infinities are stored as they are.
  ///
  /// - Parameters:
  ///   - name: Metric name such as `train/loss` (see ``MetricNameRules``).
  ///   - value: The value.
  ///   - step: Training step, 0 or more.
  ///   - epoch: Epoch, when the caller tracks one; may be fractional.
  /// - Throws: ``TrackingError`` with code `.invalidMetricName`, `.invalidArgument` for a
  ///   negative step or a non-finite epoch, or `.runFinished` after
  ///   ``finish(status:errorMessage:)``.
  public nonisolated func log(_ name: String, _ value: Double, step: Int, epoch: Double? = nil)
    throws
  {
    let isSampled = writer.shouldSampleLogSpan()
    let start = isSampled ? MonotonicClock.nanoseconds() : 0
    try MetricNameRules.validate(name)
    try Self.validate(step: step, epoch: epoch, metric: name)
    try writer.append(
      MetricRecord(
        step: Int64(step), epoch: epoch, wallTime: WallClock.now(),
        values: .single(name: name, value: value)))
    if isSampled {
      profiler.record(name: "tracking.log.sampled", category: "tracking", startNanoseconds: start)
    }
  }

  /// Buffers several metric values of the same step as one record.
  ///
  /// The values share one line of `metrics.jsonl` and one TensorBoard event. An empty
  /// dictionary logs nothing.
  ///
  /// - Throws: ``TrackingError`` like ``log(_:_:step:epoch:)``; when one name is invalid,
  ///   none of the values is logged.
  public nonisolated func log(_ values: [String: Double], step: Int, epoch: Double? = nil) throws {
    guard !values.isEmpty else { return }
    let isSampled = writer.shouldSampleLogSpan()
    let start = isSampled ? MonotonicClock.nanoseconds() : 0
    for name in values.keys { try MetricNameRules.validate(name) }
    try Self.validate(step: step, epoch: epoch, metric: values.keys.min() ?? "")
    let pairs = values.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    try writer.append(
      MetricRecord(
        step: Int64(step), epoch: epoch, wallTime: WallClock.now(), values: .multiple(pairs)))
    if isSampled {
      profiler.record(name: "tracking.log.sampled", category: "tracking", startNanoseconds: start)
    }
  }

  /// Appends an event to `events.jsonl` within about one flush interval and returns its id.
  ///
  /// - Parameters:
  ///   - kind: What happened; one of the ``EventKind`` constants or a name of your own.
  ///   - message: A sentence for people.
  ///   - step: Training step the event belongs to.
  ///   - data: Extra fields for programs.
  /// - Throws: ``TrackingError`` with code `.invalidArgument` for an empty kind or one with
  ///   control characters, or `.runFinished` after the run finished.
  @discardableResult
  public nonisolated func recordEvent(
    _ kind: EventKind, message: String, step: Int? = nil, data: [String: JSONValue] = [:]
  ) throws -> Int {
    try Self.validate(kind: kind)
    return try writer.recordEvent(
      kind: kind, message: message, step: step, data: data.isEmpty ? nil : data, error: nil)
  }

  /// Records an error as an event of kind ``EventKind/error`` with its type, message,
  /// `context` and the call stack of the caller, and wakes the writer so it reaches the
  /// disk at once. Returns the event's id.
  ///
  /// Record the error before the process exits: call ``flush()`` afterwards to wait until
  /// it is written.
  ///
  /// - Throws: ``TrackingError`` with code `.runFinished` after the run finished.
  @discardableResult
  public nonisolated func recordError(
    _ error: any Error, context: [String: String] = [:], step: Int? = nil
  ) throws -> Int {
    let details = ErrorDetails(
      type: String(reflecting: type(of: error)), message: String(describing: error),
      context: context,
      callStack: Thread.callStackSymbols)
    return try writer.recordEvent(
      kind: .error, message: "\(details.type): \(details.message)", step: step, data: nil,
      error: details)
  }

  static func validate(step: Int, epoch: Double?, metric: String) throws {
    guard step >= 0 else {
      throw TrackingError(
        .invalidArgument, "step \(step) of metric '\(metric)' is negative; steps count from 0",
        metric: metric)
    }
    if let epoch, !epoch.isFinite {
      throw TrackingError(
        .invalidArgument,
        "epoch \(epoch) of metric '\(metric)' is not a finite number; pass nil to omit it",
        metric: metric)
    }
  }

  static func validate(kind: EventKind) throws {
    let name = kind.rawValue
    guard !name.isEmpty, name.utf8.count <= 128,
      !name.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) })
    else {
      throw TrackingError(
        .invalidArgument,
        "event kind \(MetricNameRules.quoted(name)) must be 1 to 128 bytes without control characters, such as 'checkpoint'"
      )
    }
  }
}
