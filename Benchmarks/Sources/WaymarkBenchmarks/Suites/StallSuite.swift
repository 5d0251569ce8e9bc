import Foundation
import WaymarkCheckpoint
import WaymarkCore

/// Time `save` keeps the caller waiting for a large state, with and without a forced copy.
enum StallSuite {
  static func run(quick: Bool, root: String) async throws -> String {
    let byteCount = quick ? 256 << 20 : 4 << 30
    let saveCount = quick ? 3 : 5
    let tensorCount = 300
    let elementsPerTensor = byteCount / 4 / tensorCount
    log("stall: f32 \(formatByteCount(byteCount)), \(saveCount) saves")
    // Every array this suite copies is then fresh memory, for the plain and the forced copy
    // alike, and freed arrays go back to the system. The suite runs last because this
    // setting stays for the rest of the process.
    ProcessMemory.mapLargeAllocationsSeparately()

    // The caller's arrays; tensors made from them share their storage.
    var arrays: [[Float]] = (0..<tensorCount).map { index in
      var generator = RandomNormal(seed: UInt64(index))
      return TensorKind.allCases[index % 3].values(count: elementsPerTensor, using: &generator)
    }
    func state() -> TrainingState {
      var tensors: [String: Tensor] = [:]
      for (index, values) in arrays.enumerated() {
        tensors["layers.\(index / 3).\(TensorKind.allCases[index % 3].rawValue)"] =
          try! Tensor(values, shape: [values.count])
      }
      return TrainingState(tensors: tensors)
    }
    let raw = tensorCount * elementsPerTensor * 4

    // One plain copy of the state into fresh arrays: the cost a forced copy should match. It
    // runs before every save, so both copies meet the same state of the machine's memory.
    var plainCopies: [Double] = []
    func measurePlainCopy() {
      var copies: [[Float]] = []
      plainCopies.append(
        secondsElapsed {
          copies = arrays.map { values in values.withUnsafeBufferPointer { Array($0) } }
        })
      precondition(copies.count == tensorCount)
    }

    var table = MarkdownTable([
      "writer", "state", "saves", "save stall p50", "stall p99", "stall max", "forced copy p50",
      "forced copy max", "one plain copy p50", "forced copy / plain copy", "commit",
    ])
    let writers: [(name: String, pool: BlockingThreadPool)] = [
      ("default pool", .shared),
      (
        "pool of 2 threads, `.idle`",
        BlockingThreadPool(threadCount: 2, name: "bench.idle", priority: .idle)
      ),
    ]
    // The first touch of memory the machine has never given this process costs far more
    // than later touches (see the memory fill figures at the top). One copy before any
    // measurement gives every row the same, warm, starting point.
    measurePlainCopy()
    for writer in writers {
      let directory = root + "/stall"
      try BenchmarkFiles.freshDirectory(directory)
      defer { try? FileManager.default.removeItem(atPath: directory) }
      var options = CheckpointManager.Options()
      options.retention = RetentionPolicy(keepLast: 1)
      options.pool = writer.pool
      let manager = try await CheckpointManager(directory: directory, options: options)
      var stalls: [Double] = []
      var copyStalls: [Double] = []
      var commits: [Double] = []
      plainCopies = []
      for step in 0..<Int64(saveCount) {
        measurePlainCopy()
        let captured = state()
        let start = MonotonicClock.nanoseconds()
        let ticket = try await manager.save(step: step, state: captured)
        stalls.append(Double(MonotonicClock.nanoseconds() - start) / 1e9)
        // The training loop writes to every array while the save is in flight, so each one is
        // copied once, here, on the caller's thread.
        let copySeconds = secondsElapsed {
          for index in arrays.indices { arrays[index][0] += 1e-7 }
        }
        copyStalls.append(copySeconds)
        try await manager.waitForCommit(of: ticket)
        commits.append(Double(MonotonicClock.nanoseconds() - start) / 1e9)
      }
      try await manager.close()
      if writer.pool !== BlockingThreadPool.shared { writer.pool.shutDown() }

      let stall = Timings(samples: stalls)
      let copy = Timings(samples: copyStalls)
      let plainCopySeconds = Timings(samples: plainCopies).median
      table.append([
        writer.name, "f32 \(formatByteCount(raw)) × \(tensorCount)", "\(saveCount)",
        formatMilliseconds(stall.median),
        formatMilliseconds(stall.p99), formatMilliseconds(stall.max),
        formatMilliseconds(copy.median),
        formatMilliseconds(copy.max), formatMilliseconds(plainCopySeconds),
        formatRatio(copy.median / plainCopySeconds),
        formatThroughput(raw, Timings(samples: commits).median),
      ])
      let name = "f32 \(formatByteCount(byteCount)), \(writer.name)"
      TargetBoard.record(
        "save stall p99 ≤ 5 ms", workload: name, measured: formatMilliseconds(stall.p99),
        isMet: stall.p99 <= 0.005)
      TargetBoard.record(
        "forced copy ≤ one memory copy (within 10%)", workload: name,
        measured: formatRatio(copy.median / plainCopySeconds) + " of one copy",
        isMet: copy.median <= plainCopySeconds * 1.1)
    }
    var report = "## Stall of `save` for a large state\n\n"
    report += "The state is handed over as tensors that share the caller's `[Float]` arrays, "
    report += "so `save` copies nothing. *Forced copy* is the time the caller then spends on "
    report += "its first write to every array while the save is still being written: "
    report += "copy-on-write copies each array once. *One plain copy* copies the same arrays "
    report += "into fresh arrays with no save running, once before each save. The second "
    report += "row writes with two threads at `.idle` priority, which run only when a core "
    report += "would otherwise be idle.\n\n"
    report += table.rendered() + "\n"
    return report
  }
}
