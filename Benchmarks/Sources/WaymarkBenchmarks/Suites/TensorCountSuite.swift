import Foundation
import WaymarkCheckpoint

/// Save and load throughput as the same total state is split into more and smaller tensors.
enum TensorCountSuite {
  static func run(quick: Bool, root: String) async throws -> String {
    let totals = quick ? [64 << 20] : [64 << 20, 1 << 30]
    let counts = [1, 3, 30, 300, 3_000, 10_000]
    let saveCount = quick ? 2 : 3
    var report = "## Tensor count at a fixed total size\n\n"
    report += "f32 states of weights and Adam moments; the median of \(saveCount) saves "
    report += "(commit on disk), the same save into `/dev/shm` with the default codec and with "
    report += "chunks stored raw, and a load from the page cache. "
    report += "*vs few* compares the disk commit throughput with the 3-tensor state of the same "
    report += "total.\n\n"
    var table = MarkdownTable([
      "total", "tensors", "bytes per tensor", "commit", "in memory", "in memory, raw codec",
      "load", "vs few",
    ])
    for total in totals {
      var fewThroughput = Double.nan
      for count in counts {
        let workload = Workload(dtype: .float32, byteCount: total, tensorCount: count)
        log("tensor count: \(workload)")
        let state = await workload.makeState()
        let directory = root + "/tensors"
        try BenchmarkFiles.freshDirectory(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = CheckpointManager.Options()
        options.retention = RetentionPolicy(keepLast: 1)
        let saves = try await SaveRunner(directory: directory + "/store", options: options)
          .saveSequentially(state, steps: 0..<Int64(saveCount))
        let commit = Timings(samples: saves.map(\.commitSeconds)).median
        let load = try await timeLoad(saves.last!.committed.path)

        let memoryDirectory = "/dev/shm/waymark-bench-tensors-\(getpid())"
        try BenchmarkFiles.freshDirectory(memoryDirectory)
        let inMemory = try await SaveRunner(directory: memoryDirectory, options: options)
          .saveSequentially(state, steps: 0..<Int64(saveCount))
        var rawOptions = options
        rawOptions.codec = .raw
        let inMemoryRaw = try await SaveRunner(directory: memoryDirectory, options: rawOptions)
          .saveSequentially(state, steps: Int64(saveCount)..<Int64(2 * saveCount))
        try? FileManager.default.removeItem(atPath: memoryDirectory)

        let raw = state.byteCount
        let throughput = Double(raw) / commit
        if count == 3 { fewThroughput = throughput }
        table.append([
          formatByteCount(total), "\(count)", formatByteCount(raw / count),
          formatThroughput(raw, commit),
          formatThroughput(raw, Timings(samples: inMemory.map(\.commitSeconds)).median),
          formatThroughput(raw, Timings(samples: inMemoryRaw.map(\.commitSeconds)).median),
          formatThroughput(raw, load),
          count < 3 ? "–" : formatRatio(throughput / fewThroughput),
        ])
        if count == counts.last {
          TargetBoard.record(
            "\(count) tensors keep ≥ 0.5× the throughput of 3",
            workload: "f32 \(formatByteCount(total))",
            measured: formatRatio(throughput / fewThroughput),
            isMet: throughput / fewThroughput >= 0.5)
        }
      }
    }
    report += table.rendered() + "\n"
    return report
  }
}
