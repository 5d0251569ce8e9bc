import Foundation
import Synchronization
import Testing
import WaymarkCheckpoint
import WaymarkCore

/// Collects a manager's events, for checks that an error reached the run's event log.
final class EventRecorder: Sendable {
  private let events = Mutex<[CheckpointEvent]>([])

  /// A handler to pass to ``CheckpointManager``.
  var handler: @Sendable (CheckpointEvent) -> Void {
    { [self] event in self.events.withLock { $0.append(event) } }
  }

  /// Every event so far, in order.
  var all: [CheckpointEvent] {
    events.withLock { $0 }
  }

  /// Errors of `saveFailed` events.
  var saveFailures: [CheckpointError] {
    all.compactMap { event in
      if case .saveFailed(_, let error) = event { return error }
      return nil
    }
  }

  /// Errors of `retentionFailed` events.
  var retentionFailures: [CheckpointError] {
    all.compactMap { event in
      if case .retentionFailed(let error) = event { return error }
      return nil
    }
  }

  /// Steps of `checkpointDeleted` events.
  var deletedSteps: [Int64] {
    all.compactMap { event in
      if case .checkpointDeleted(let step, _) = event { return step }
      return nil
    }
  }
}

/// Collects log records at every level.
final class LogRecorder: Sendable {
  private let records = Mutex<[Logger.Record]>([])

  /// A logger that records into this recorder.
  var logger: Logger {
    Logger(label: "waymark.test", logLevel: .trace) { [self] record in
      self.records.withLock { $0.append(record) }
    }
  }

  /// Every record so far, in order.
  var all: [Logger.Record] {
    records.withLock { $0 }
  }

  /// Records at `.error` level.
  var errors: [Logger.Record] {
    all.filter { $0.level == .error }
  }
}

/// Small deterministic states whose bytes depend on the step only.
enum SampleStates {
  /// Two tensors, 8,800 raw bytes: three chunks of at most 4 KiB.
  static func state(step: Int64) throws -> TrainingState {
    let weights = (0..<2000).map { Float($0) * 0.001 + Float(step) }
    let bias = (0..<100).map { Int64($0) &* (step + 7) }
    return TrainingState(
      tensors: [
        "weights": try Tensor(weights, shape: [2000]),
        "bias": try Tensor(bias, shape: [4, 25]),
      ],
      extraState: ["step": .int(step)])
  }

  static func metrics(step: Int64) -> [String: Double] {
    ["loss": 10.0 / Double(step + 1)]
  }
}

/// Returns whether `error` or any error under it is a file-system error with `errno`.
func hasFileSystemError(_ error: (any Error)?, errno: Int32) -> Bool {
  var current = error
  while let candidate = current {
    if let fileSystemError = candidate as? FileSystemError {
      return fileSystemError.errno == errno
    }
    current = (candidate as? CheckpointError)?.underlying
  }
  return false
}

/// Names in `directory` that start with `.tmp-` or `.trash-`.
func leftoverNames(in directory: String) throws -> [String] {
  try FileManager.default.contentsOfDirectory(atPath: directory).filter {
    $0.hasPrefix(".tmp-") || $0.hasPrefix(".trash-")
  }
}

/// Reopens `directory` with the real file system, as a restarted process would, and checks
/// the store. No leftover may survive the open, and every visible checkpoint must verify
/// and contain the bytes `expected` gives for its step.
///
/// - Returns: The step `loadLatest` resumes from, or `nil` for an empty store.
func reopenAndCheck(
  _ directory: String, expected: (Int64) throws -> TrainingState,
  sourceLocation: SourceLocation = #_sourceLocation
) async throws -> Int64? {
  let manager = try await CheckpointManager(directory: directory)
  #expect(try leftoverNames(in: directory).isEmpty, sourceLocation: sourceLocation)

  let report = try await CheckpointVerifier().verify(path: directory)
  #expect(
    report.ok, "damaged: \(report.checkpoints.filter { !$0.isIntact })",
    sourceLocation: sourceLocation)
  for entry in try await manager.store.committedCheckpoints() {
    let loaded = try await manager.load(step: entry.step)
    #expect(
      loaded.state == (try expected(entry.step)), "step \(entry.step)",
      sourceLocation: sourceLocation)
  }
  let latest = try await manager.loadLatest()
  try await manager.close()
  return latest?.step
}
