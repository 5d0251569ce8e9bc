import Foundation
import WaymarkCheckpoint
import WaymarkCore

/// Time to find the newest valid checkpoint in a store of many checkpoints.
enum ResumeSuite {
  static func run(quick: Bool, root: String) async throws -> String {
    let checkpointCount = 1_000
    let directory = root + "/resume"
    try BenchmarkFiles.freshDirectory(directory)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    log("resume: writing \(checkpointCount) checkpoints")

    let state = TrainingState(
      tensors: ["weight": try Tensor([Float](repeating: 0.02, count: 1024), shape: [32, 32])],
      extraState: ["optimizer": ["lr": 3e-4]])
    let manager = try await CheckpointManager(directory: directory)
    let writeSeconds = try await secondsAwaiting {
      for step in 0..<Int64(checkpointCount) {
        let ticket = try await manager.save(step: step, state: state)
        try await manager.waitForCommit(of: ticket)
      }
    }
    try await manager.close()

    let store = CheckpointStore(directory: directory)
    var samples: [Double] = []
    for _ in 0..<(quick ? 20 : 200) {
      samples.append(
        try await secondsAwaiting {
          let result = try await store.newestValid()
          precondition(result.found?.entry.step == Int64(checkpointCount - 1))
        })
    }
    let timings = Timings(samples: samples)
    var table = MarkdownTable(["checkpoints", "newestValid p50", "p99", "max", "writing them"])
    table.append([
      "\(checkpointCount)", formatMilliseconds(timings.median), formatMilliseconds(timings.p99),
      formatMilliseconds(timings.max), String(format: "%.1f s", writeSeconds),
    ])
    TargetBoard.record(
      "newest valid of 1,000 ≤ 20 ms", workload: "\(checkpointCount) checkpoints",
      measured: formatMilliseconds(timings.p99) + " p99", isMet: timings.p99 <= 0.020)
    var report = "## Finding the newest valid checkpoint\n\n"
    report += "`CheckpointStore.newestValid()` lists the store, orders the committed "
    report += "checkpoints by step and reads and checks the newest manifest. The directory "
    report += "entries are in the kernel's cache, as they are right after a run stops.\n\n"
    report += table.rendered() + "\n"
    return report
  }
}
