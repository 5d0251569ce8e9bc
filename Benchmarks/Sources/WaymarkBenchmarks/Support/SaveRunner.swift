import Foundation
import WaymarkCheckpoint
import WaymarkCore

/// Timings of one save and its commit.
struct SaveResult: Sendable {
  /// Seconds `save` held the caller.
  var stallSeconds: Double
  /// Seconds from calling `save` to `waitForCommit` returning.
  var commitSeconds: Double
  var committed: CommittedCheckpoint
}

/// Saves states with a ``CheckpointManager`` opened on one store directory.
struct SaveRunner {
  var directory: String
  var options: CheckpointManager.Options
  var profiler: Profiler = .disabled

  /// Saves `state` at each of `steps` in turn, waiting for each commit before the next save.
  func saveSequentially(_ state: TrainingState, steps: Range<Int64>) async throws -> [SaveResult] {
    let manager = try await CheckpointManager(
      directory: directory, options: options, profiler: profiler)
    var results: [SaveResult] = []
    for step in steps {
      let start = MonotonicClock.nanoseconds()
      let ticket = try await manager.save(step: step, state: state)
      let stall = Double(MonotonicClock.nanoseconds() - start) / 1e9
      let committed = try await manager.waitForCommit(of: ticket)
      let total = Double(MonotonicClock.nanoseconds() - start) / 1e9
      results.append(SaveResult(stallSeconds: stall, commitSeconds: total, committed: committed))
    }
    try await manager.close()
    return results
  }
}

/// Loads the checkpoint at `path` with every checksum checked; returns seconds taken.
func timeLoad(_ path: String, pool: BlockingThreadPool = .shared) async throws -> Double {
  let reader = CheckpointReader(pool: pool)
  return try await secondsAwaiting {
    let loaded = try await reader.load(checkpointAt: path)
    precondition(!loaded.state.tensors.isEmpty)
  }
}
