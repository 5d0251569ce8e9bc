import Dispatch
import Foundation
import Synchronization
import WaymarkCore

/// The buffer between callers and a run's writer thread, and the handle to that thread.
///
/// `log` and `recordEvent` only take a lock and append to an array, so callers never wait
/// on the disk. A dedicated thread (``RunWriterWorker``) wakes every
/// ``RunWriterConfiguration/flushIntervalSeconds``, or sooner when asked, takes everything
/// buffered, and appends it to `metrics.jsonl`, `events.jsonl` and the TensorBoard file
/// with an fsync per file. It then runs queued jobs (such as rewriting `run.json`) in order,
/// and resumes the tasks waiting for that cycle. A crash therefore loses at most about one
/// flush interval of metrics.
final class RunWriter: Sendable {
  /// A blocking job queued for the writer thread, such as an atomic rewrite of `run.json`.
  struct Job: Sendable {
    var spanName: String
    var work: @Sendable () throws -> Void
    var continuation: CheckedContinuation<Void, any Error>
  }

  /// Records, events, jobs and waiters that the writer thread takes at the start of a cycle.
  struct Batch {
    var records: [MetricRecord]
    var events: [RunEvent]
    var jobs: [Job]
    var flushWaiters: [CheckedContinuation<Void, any Error>]
    var droppedRecordCount: Int
    var isStopping: Bool
  }

  private struct State {
    var records: [MetricRecord] = []
    var events: [RunEvent] = []
    var jobs: [Job] = []
    var flushWaiters: [CheckedContinuation<Void, any Error>] = []
    var stopWaiters: [CheckedContinuation<Void, Never>] = []
    var nextEventID: Int
    var droppedRecordCount = 0
    var isAcceptingRecords = true
    var isStopping = false
    var hasStopped = false
    var hasWakeRequest = false
  }

  let configuration: RunWriterConfiguration
  private let state: Mutex<State>
  private let wakeSignal = DispatchSemaphore(value: 0)
  private let publishedSummaries = Mutex<[String: MetricSummary]>([:])
  private let logCallCount = Atomic<UInt64>(0)

  private init(configuration: RunWriterConfiguration) {
    self.configuration = configuration
    var initial = State(nextEventID: configuration.nextEventID)
    initial.events = configuration.initialEvents
    initial.records.reserveCapacity(Self.initialRecordCapacity(configuration))
    self.state = Mutex(initial)
  }

  /// Records each of the two buffers (the one callers fill and the one the writer thread
  /// drains) has room for from the start, so `log` rarely grows an array under the lock:
  /// 16,384 records, about 1 MiB.
  static func initialRecordCapacity(_ configuration: RunWriterConfiguration) -> Int {
    min(configuration.wakeRecordCount, 16_384)
  }

  /// Starts the writer thread, which opens the run's files and writes the first cycle
  /// (initial events, resume marker, heartbeat) before this returns.
  ///
  /// - Throws: ``TrackingError`` with code `.io` when a file cannot be opened or written.
  static func start(_ configuration: RunWriterConfiguration) async throws -> RunWriter {
    let writer = RunWriter(configuration: configuration)
    try await withCheckedThrowingContinuation {
      (continuation: CheckedContinuation<Void, any Error>) in
      let thread = Thread {
        let worker: RunWriterWorker
        do {
          worker = try RunWriterWorker(writer: writer)
          try worker.runFirstCycle()
        } catch {
          _ = writer.markStopped()
          OpenRunRegistry.unregister(configuration.registryKey)
          continuation.resume(throwing: error)
          return
        }
        continuation.resume()
        worker.runLoop()
      }
      thread.name = "waymark.tracking.\(configuration.runID)"
      thread.start()
    }
    return writer
  }

  // MARK: Callers

  /// Appends a metric record; the hot path of `log`.
  ///
  /// - Throws: ``TrackingError`` with code `.runFinished` after ``closeIntake()``.
  @inline(__always)
  func append(_ record: MetricRecord) throws {
    let maxCount = configuration.maxBufferedRecordCount
    let wakeCount = configuration.wakeRecordCount
    let outcome = state.withLock { state -> AppendOutcome in
      guard state.isAcceptingRecords else { return .rejected }
      guard state.records.count < maxCount else {
        state.droppedRecordCount += 1
        return .buffered
      }
      state.records.append(record)
      if state.records.count >= wakeCount, !state.hasWakeRequest {
        state.hasWakeRequest = true
        return .bufferedAndWake
      }
      return .buffered
    }
    switch outcome {
    case .buffered: return
    case .bufferedAndWake: wakeSignal.signal()
    case .rejected: throw finishedError()
    }
  }

  private enum AppendOutcome {
    case buffered
    case bufferedAndWake
    case rejected
  }

  /// Returns whether this `log` call should record a profiler span.
  @inline(__always)
  func shouldSampleLogSpan() -> Bool {
    let interval = UInt64(max(1, configuration.logSpanSampleInterval))
    return logCallCount.wrappingAdd(1, ordering: .relaxed).oldValue % interval == 0
  }

  /// Assigns the next id to an event and buffers it. Error events wake the writer at once.
  ///
  /// - Throws: ``TrackingError`` with code `.runFinished` after ``closeIntake()``.
  func recordEvent(
    kind: EventKind, message: String, step: Int?, data: [String: JSONValue]?, error: ErrorDetails?
  ) throws -> Int {
    let wallTime = WallClock.now()
    let id = state.withLock { state -> Int? in
      guard state.isAcceptingRecords else { return nil }
      let id = state.nextEventID
      state.nextEventID += 1
      state.events.append(
        RunEvent(
          id: id, wallTime: wallTime, kind: kind, message: message, step: step, data: data,
          error: error))
      return id
    }
    guard let id else { throw finishedError() }
    if error != nil { wakeSignal.signal() }
    return id
  }

  /// Waits until everything buffered before the call is written and fsynced.
  ///
  /// - Throws: ``TrackingError`` with code `.io` when the cycle failed to write; the bytes
  ///   stay buffered and the next cycle retries them.
  func flush() async throws {
    try await withCheckedThrowingContinuation {
      (continuation: CheckedContinuation<Void, any Error>) in
      let accepted = state.withLock { state -> Bool in
        guard !state.hasStopped else { return false }
        state.flushWaiters.append(continuation)
        return true
      }
      if accepted {
        wakeSignal.signal()
      } else {
        continuation.resume(throwing: finishedError())
      }
    }
  }

  /// Runs `work` on the writer thread after the records buffered before the call are
  /// written, and waits for it.
  func perform(_ spanName: String, _ work: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation {
      (continuation: CheckedContinuation<Void, any Error>) in
      let accepted = state.withLock { state -> Bool in
        guard !state.hasStopped else { return false }
        state.jobs.append(Job(spanName: spanName, work: work, continuation: continuation))
        return true
      }
      if accepted {
        wakeSignal.signal()
      } else {
        continuation.resume(throwing: finishedError())
      }
    }
  }

  /// Makes later `log` and `recordEvent` calls throw `.runFinished`.
  func closeIntake() {
    state.withLock { $0.isAcceptingRecords = false }
  }

  /// Writes what is buffered, stops the thread and waits for it to exit.
  func stop() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let hasStopped = state.withLock { state -> Bool in
        state.isAcceptingRecords = false
        state.isStopping = true
        guard !state.hasStopped else { return true }
        state.stopWaiters.append(continuation)
        return false
      }
      if hasStopped {
        continuation.resume()
      } else {
        wakeSignal.signal()
      }
    }
  }

  /// Asks the thread to write what is buffered and exit, without waiting; for a run that
  /// is released without being finished.
  func stopWithoutWaiting() {
    state.withLock { state in
      state.isAcceptingRecords = false
      state.isStopping = true
    }
    wakeSignal.signal()
  }

  /// Returns the metric summaries as of the last cycle.
  func summaries() -> [String: MetricSummary] {
    publishedSummaries.withLock { $0 }
  }

  private func finishedError() -> TrackingError {
    TrackingError(
      .runFinished,
      "run \(configuration.runID) is finished and accepts no more metrics or events; resume it with Run.resume(at:) to log more",
      path: configuration.directory)
  }

  // MARK: Writer thread

  /// Waits until asked to flush or `timeoutNanoseconds` pass.
  func waitForWork(timeoutNanoseconds: UInt64) {
    _ = wakeSignal.wait(
      timeout: .now() + .nanoseconds(Int(min(timeoutNanoseconds, UInt64(Int.max)))))
  }

  /// Swaps the buffered records with `spare` (an empty array with capacity) and takes the
  /// rest of the queued work.
  func takeBatch(swappingRecordsWith spare: inout [MetricRecord]) -> Batch {
    state.withLock { state in
      swap(&state.records, &spare)
      let batch = Batch(
        records: spare, events: state.events, jobs: state.jobs, flushWaiters: state.flushWaiters,
        droppedRecordCount: state.droppedRecordCount, isStopping: state.isStopping)
      spare = []
      state.events = []
      state.jobs = []
      state.flushWaiters = []
      state.droppedRecordCount = 0
      state.hasWakeRequest = false
      return batch
    }
  }

  /// Publishes the summaries the writer thread computed.
  func publish(_ summaries: [String: MetricSummary]) {
    publishedSummaries.withLock { $0 = summaries }
  }

  /// Marks the thread as exited and returns the tasks waiting in ``stop()``, plus any
  /// flush waiters and jobs that arrived after the final cycle.
  func markStopped() -> (stopWaiters: [CheckedContinuation<Void, Never>], late: Batch) {
    state.withLock { state in
      state.hasStopped = true
      state.isAcceptingRecords = false
      let waiters = state.stopWaiters
      state.stopWaiters = []
      let late = Batch(
        records: [], events: [], jobs: state.jobs, flushWaiters: state.flushWaiters,
        droppedRecordCount: 0, isStopping: true)
      state.jobs = []
      state.flushWaiters = []
      return (waiters, late)
    }
  }
}
