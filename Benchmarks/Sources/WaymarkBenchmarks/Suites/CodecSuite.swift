import Foundation
import WaymarkCheckpoint
import WaymarkCore

/// Codec throughput and size, measured through the real writer and reader on an in-memory
/// file system (`/dev/shm`), so the disk does not limit the figures.
enum CodecSuite {
  struct Candidate {
    var name: String
    var policy: CodecPolicy
  }

  static func candidates(quick: Bool) -> [Candidate] {
    var list: [Candidate] = [
      Candidate(name: "raw", policy: .raw),
      Candidate(name: "zstd -5", policy: .zstd(level: -5)),
      Candidate(name: "zstd 1", policy: .zstd(level: 1)),
      Candidate(name: "bytegroup+zstd 1", policy: .byteGroupedZstd(level: 1)),
      Candidate(name: "bytelanes 1", policy: .byteLanes(level: 1)),
      Candidate(name: "bytelanes -1000 (default)", policy: .byteLanes(level: -1000)),
    ]
    if !quick {
      list.insert(Candidate(name: "zstd -1", policy: .zstd(level: -1)), at: 2)
      list.insert(Candidate(name: "zstd 3", policy: .zstd(level: 3)), at: 4)
      list.insert(Candidate(name: "bytegroup+zstd -1", policy: .byteGroupedZstd(level: -1)), at: 5)
      list.insert(Candidate(name: "bytelanes -5", policy: .byteLanes(level: -5)), at: 8)
      list.insert(Candidate(name: "bytelanes -100", policy: .byteLanes(level: -100)), at: 9)
    }
    return list
  }

  static func run(quick: Bool) async throws -> String {
    let byteCount = quick ? 16 << 20 : 64 << 20
    let repeats = quick ? 1 : 3
    let root = "/dev/shm/waymark-bench-codec-\(getpid())"
    try BenchmarkFiles.freshDirectory(root)
    defer { try? FileManager.default.removeItem(atPath: root) }

    var report = "## Codecs\n\n"
    report += "Each row saves one \(formatByteCount(byteCount)) tensor through `CheckpointManager` "
    report +=
      "into `/dev/shm` (memory, so no disk) with 4 MiB chunks, then loads it back with every "
    report += "checksum checked; \(repeats) of each. *Per core* divides the raw bytes by the CPU "
    report += "seconds the process used (user plus system, best of \(repeats)), which other "
    report += "processes on the machine barely change. *Wall* is the median elapsed time on all "
    report += "\(BlockingThreadPool.shared.threadCount) pool threads. Ratio is stored bytes over "
    report += "raw bytes.\n\n"
    var table = MarkdownTable([
      "data", "codec", "ratio", "encode per core", "decode per core", "encode wall",
      "decode wall",
    ])
    var step: Int64 = 0
    for dtype in [DType.float32, .bfloat16, .float16] {
      for kind in TensorKind.allCases {
        log("codecs: \(dtype.rawValue) \(kind.rawValue)")
        var generator = RandomNormal(seed: 42)
        let values = kind.values(count: byteCount / dtype.byteWidth, using: &generator)
        let state = TrainingState(tensors: ["t": makeTensor(values, dtype: dtype)])
        let raw = state.byteCount
        for candidate in candidates(quick: quick) {
          var options = CheckpointManager.Options()
          options.codec = candidate.policy
          options.retention = RetentionPolicy(keepLast: 1)
          let manager = try await CheckpointManager(directory: root, options: options)
          var encodeWall: [Double] = []
          var encodeCPU: [Double] = []
          var decodeWall: [Double] = []
          var decodeCPU: [Double] = []
          var committed: CommittedCheckpoint?
          for _ in 0..<repeats {
            let cpuStart = processCPUSeconds()
            let wallStart = MonotonicClock.nanoseconds()
            let ticket = try await manager.save(step: step, state: state)
            committed = try await manager.waitForCommit(of: ticket)
            encodeWall.append(Double(MonotonicClock.nanoseconds() - wallStart) / 1e9)
            encodeCPU.append(processCPUSeconds() - cpuStart)
            step += 1

            let loadCPUStart = processCPUSeconds()
            decodeWall.append(try await timeLoad(committed!.path))
            decodeCPU.append(processCPUSeconds() - loadCPUStart)
          }
          try await manager.close()
          table.append([
            "\(dtype.rawValue) \(kind.rawValue)", candidate.name,
            formatFraction(Double(committed!.storedByteCount) / Double(raw)),
            formatThroughput(raw, encodeCPU.min()!), formatThroughput(raw, decodeCPU.min()!),
            formatThroughput(raw, Timings(samples: encodeWall).median),
            formatThroughput(raw, Timings(samples: decodeWall).median),
          ])
        }
      }
    }
    report += table.rendered() + "\n"
    return report
  }
}
