/// One `log` call waiting in the buffer: its step, epoch, wall time and values.
///
/// A single-value call stores its name and value inline, so the hot path allocates nothing
/// beyond the buffer's amortized growth.
struct MetricRecord: Sendable {
  /// The values of one record, in the order they are written.
  enum Values: Sendable {
    case single(name: String, value: Double)
    case multiple([(name: String, value: Double)])
  }

  var step: Int64
  var epoch: Double?
  /// Seconds since the Unix epoch when the call was made.
  var wallTime: Double
  var values: Values

  /// Calls `body` with each name and value.
  @inline(__always)
  func forEachValue(_ body: (String, Double) throws -> Void) rethrows {
    switch values {
    case .single(let name, let value):
      try body(name, value)
    case .multiple(let pairs):
      for pair in pairs { try body(pair.name, pair.value) }
    }
  }

  /// Number of values in the record.
  var valueCount: Int {
    switch values {
    case .single: 1
    case .multiple(let pairs): pairs.count
    }
  }
}

/// The line written to `metrics.jsonl` when a run resumes.
struct ResumeMarker: Sendable, Hashable {
  /// Id of the `resumed` event in `events.jsonl`.
  var eventID: Int
  /// First step the resumed run repeats, when the caller knows it.
  var fromStep: Int64?
  var wallTime: Double
}
