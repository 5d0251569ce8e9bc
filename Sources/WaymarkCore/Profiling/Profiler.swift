public import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Records timed spans of the engine's and tracker's operations, and of any user code.
///
/// Recording takes one uncontended lock and no allocation beyond the span's strings, so it is
/// cheap enough to leave on. The profiler keeps exact counts, totals and maxima per operation,
/// percentiles from a histogram, and the most recent ``spanCapacity`` spans for a trace.
public final class Profiler: Sendable {
  private struct OperationKey: Hashable {
    var name: String
    var category: String
  }

  private struct State {
    var operations: [OperationKey: DurationHistogram] = [:]
    var recent: [ProfileSpan] = []
    var nextSlot = 0
  }

  private let state = Mutex(State())
  private let isEnabled: Bool

  /// How many of the most recent spans the trace keeps.
  public let spanCapacity: Int

  /// Start of this profiler on the monotonic clock, used as time zero in traces.
  public let originNanoseconds: UInt64

  /// Creates a profiler that keeps the most recent `spanCapacity` spans for traces.
  public init(spanCapacity: Int = 100_000) {
    self.spanCapacity = max(0, spanCapacity)
    self.isEnabled = true
    self.originNanoseconds = MonotonicClock.nanoseconds()
  }

  private init(disabled: Void) {
    self.spanCapacity = 0
    self.isEnabled = false
    self.originNanoseconds = 0
  }

  /// A profiler that records nothing.
  public static let disabled = Profiler(disabled: ())

  /// Runs `body` and records how long it took under `name`.
  @discardableResult
  public func measure<T>(_ name: String, category: String = "user", _ body: () throws -> T) rethrows
    -> T
  {
    guard isEnabled else { return try body() }
    let start = MonotonicClock.nanoseconds()
    defer { record(name: name, category: category, startNanoseconds: start) }
    return try body()
  }

  /// Runs the async `body` and records how long it took under `name`.
  @discardableResult
  public func measure<T>(
    _ name: String, category: String = "user", isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
  ) async rethrows -> T {
    guard isEnabled else { return try await body() }
    let start = MonotonicClock.nanoseconds()
    defer { record(name: name, category: category, startNanoseconds: start) }
    return try await body()
  }

  /// Records a span that started at `startNanoseconds` and ends now.
  public func record(name: String, category: String, startNanoseconds: UInt64) {
    guard isEnabled else { return }
    let end = MonotonicClock.nanoseconds()
    record(
      ProfileSpan(
        name: name, category: category, startNanoseconds: startNanoseconds,
        durationNanoseconds: end &- startNanoseconds, threadID: currentThreadID()))
  }

  /// Records a finished span.
  public func record(_ span: ProfileSpan) {
    guard isEnabled else { return }
    let capacity = spanCapacity
    state.withLock { state in
      state.operations[
        OperationKey(name: span.name, category: span.category), default: DurationHistogram()
      ]
      .record(span.durationNanoseconds)
      guard capacity > 0 else { return }
      if state.recent.count < capacity {
        state.recent.append(span)
      } else {
        state.recent[state.nextSlot] = span
      }
      state.nextSlot = (state.nextSlot + 1) % capacity
    }
  }

  /// Returns the kept spans, oldest first.
  public func spans() -> [ProfileSpan] {
    state.withLock { state in
      guard state.recent.count == spanCapacity, spanCapacity > 0 else { return state.recent }
      return Array(state.recent[state.nextSlot...] + state.recent[..<state.nextSlot])
    }
  }

  /// Returns one summary per operation, sorted by total time, largest first.
  public func summary() -> [ProfileOperationSummary] {
    let operations = state.withLock { $0.operations }
    return operations.map { key, histogram in
      let seconds = { (nanoseconds: UInt64) in Double(nanoseconds) / 1e9 }
      return ProfileOperationSummary(
        name: key.name, category: key.category, count: histogram.count,
        totalSeconds: seconds(histogram.totalNanoseconds),
        meanSeconds: seconds(histogram.totalNanoseconds) / Double(max(histogram.count, 1)),
        p50Seconds: seconds(histogram.percentile(0.5)),
        p95Seconds: seconds(histogram.percentile(0.95)),
        maxSeconds: seconds(histogram.maxNanoseconds))
    }
    .sorted { ($0.totalSeconds, $0.name) > ($1.totalSeconds, $1.name) }
  }

  /// Encodes the kept spans in the Chrome trace event format, which Perfetto and
  /// `chrome://tracing` open.
  public func chromeTrace() throws -> Data {
    struct Event: Encodable {
      var name: String
      var cat: String
      var ph = "X"
      var ts: Double
      var dur: Double
      var pid: Int32
      var tid: UInt64
    }
    struct Trace: Encodable {
      var traceEvents: [Event]
      var displayTimeUnit = "ms"
    }
    let pid = getpid()
    let events = spans().map { span in
      Event(
        name: span.name, cat: span.category,
        ts: Double(span.startNanoseconds &- originNanoseconds) / 1000,
        dur: Double(span.durationNanoseconds) / 1000, pid: pid, tid: span.threadID)
    }
    return try JSONCoding.encoder().encode(Trace(traceEvents: events))
  }
}

private func currentThreadID() -> UInt64 {
  #if canImport(Darwin)
    var id: UInt64 = 0
    pthread_threadid_np(nil, &id)
    return id
  #else
    return UInt64(pthread_self())
  #endif
}
