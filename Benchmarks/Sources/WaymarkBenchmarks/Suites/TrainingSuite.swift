import Foundation
import WaymarkCheckpoint
import WaymarkCore

/// Slowdown of a training loop on this machine while a save is written in the background.
///
/// A training step here is single-threaded arithmetic on its own working set, as on a machine
/// whose accelerator runs the model and whose CPU feeds it. The saved state is a separate set
/// of arrays, as after copying the weights from the accelerator. The loop runs a fixed number
/// of steps with no save, then with saves back to back, and compares the mean step time.
enum TrainingSuite {
  struct Configuration {
    var name: String
    var threadCount: Int
    var priority: BlockingThreadPool.Priority
  }

  static func run(quick: Bool, root: String) async throws -> String {
    let byteCount = quick ? 128 << 20 : 1 << 30
    let workload = Workload(dtype: .float32, byteCount: byteCount, tensorCount: 300)
    let state = await workload.makeState()
    let stepCount = quick ? 40 : 600
    let configurations = [
      Configuration(name: "pool of 2 threads (default)", threadCount: 2, priority: .normal),
      Configuration(name: "pool of 1 thread", threadCount: 1, priority: .normal),
      Configuration(name: "pool of 1 thread, `.background`", threadCount: 1, priority: .background),
      Configuration(name: "pool of 1 thread, `.idle`", threadCount: 1, priority: .idle),
      Configuration(
        name: "pool of 2 threads, `.background`", threadCount: 2, priority: .background),
      Configuration(name: "pool of 2 threads, `.idle`", threadCount: 2, priority: .idle),
    ]
    var table = MarkdownTable([
      "writer", "step without save", "step during saves", "slowdown", "saves", "commit",
      "peak extra memory",
    ])
    for configuration in configurations {
      log("training: \(configuration.name)")
      let pool = BlockingThreadPool(
        threadCount: configuration.threadCount, name: "bench.writer",
        priority: configuration.priority)
      defer { pool.shutDown() }
      let directory = root + "/training"
      try BenchmarkFiles.freshDirectory(directory)
      defer { try? FileManager.default.removeItem(atPath: directory) }

      let before = runSteps(stepCount / 2)
      var options = CheckpointManager.Options()
      options.pool = pool
      options.retention = RetentionPolicy(keepLast: 1)
      let manager = try await CheckpointManager(directory: directory, options: options)
      // The peak restarts from the current resident size, so the baseline is read after it.
      ProcessMemory.resetPeak()
      let baseline = ProcessMemory.residentByteCount
      var during: [Double] = []
      var commits: [Double] = []
      var step: Int64 = 0
      while during.count < stepCount {
        let start = MonotonicClock.nanoseconds()
        let ticket = try await manager.save(step: step, state: state)
        step += 1
        while await manager.hasPendingSaves, during.count < stepCount * 4 {
          during.append(contentsOf: runSteps(1))
        }
        try await manager.waitForCommit(of: ticket)
        commits.append(Double(MonotonicClock.nanoseconds() - start) / 1e9)
      }
      let peak = ProcessMemory.peakResidentByteCount
      try await manager.close()
      let after = runSteps(stepCount / 2)

      let quiet = Timings(samples: before + after).mean
      let busy = Timings(samples: during).mean
      let extra = peak.flatMap { peak in baseline.map { max(0, peak - $0) } }
      let slowdown = busy / quiet - 1
      TargetBoard.record(
        "training slowdown ≤ 1%", workload: "\(workload), \(configuration.name)",
        measured: String(format: "%+.1f%%", slowdown * 100), isMet: slowdown <= 0.01)
      if let extra {
        TargetBoard.record(
          "peak extra memory ≤ state + 256 MiB", workload: "\(workload), \(configuration.name)",
          measured: formatByteCount(extra), isMet: extra <= state.byteCount + (256 << 20))
      }
      table.append([
        configuration.name, formatMilliseconds(quiet), formatMilliseconds(busy),
        String(format: "%+.1f%%", slowdown * 100), "\(commits.count)",
        formatThroughput(state.byteCount, Timings(samples: commits).median),
        extra.map(formatByteCount) ?? "unknown",
      ])
    }
    var report = "## Training slowdown while saving\n\n"
    report += "State: \(workload). A step is single-threaded arithmetic on a 256 KiB working "
    report +=
      "set; its time without a save is in the first column. Steps without a save are measured before and after the "
    report += "saves; steps during saves run while a save is being written, saves back to back. "
    report += "Peak extra memory is the peak resident size during the saves minus the resident "
    report += "size before them.\n\n"
    report += table.rendered() + "\n"
    return report
  }

  /// Runs `count` training steps and returns each one's seconds.
  static func runSteps(_ count: Int) -> [Double] {
    var samples: [Double] = []
    for _ in 0..<count {
      samples.append(secondsElapsed { trainingStep() })
    }
    return samples
  }

  /// Runs 800 passes of multiply-adds over a 256 KiB working set that stays in cache, 5 to
  /// 10 ms on the 2-core benchmark machine depending on its other load.
  @inline(never)
  static func trainingStep() {
    let count = 64 * 1024
    var weights = [Float](repeating: 0.5, count: count)
    let inputs = [Float](repeating: 0.25, count: count)
    for _ in 0..<800 {
      for index in 0..<count {
        weights[index] = weights[index] * 0.999 + inputs[index] * 0.001
      }
    }
    precondition(weights[0].isFinite)
  }
}
