import Foundation
import WaymarkCheckpoint
import WaymarkCore

/// Saves and loads whole training states on the disk, next to the peers on the same bytes.
enum SaveSuite {
  /// Everything measured for one workload.
  struct Record {
    var workload: Workload
    var saves: [SaveResult]
    var storedByteCount: Int
    var peakExtraByteCount: Int?
    var loadSeconds: Double
    var coldLoadSeconds: Double
    var inMemorySaveSeconds: Double
    var rawWriteSeconds: Double
    /// Mean seconds per save spent in `fsync` of the data file and the directories.
    var fsyncSeconds: Double
    var zstd: PeerResult
    var safetensors: PeerResult
    var savez: PeerResult

    var rawByteCount: Int { saves[0].committed.rawByteCount.asInt }
    var commitSeconds: Double { Timings(samples: saves.map(\.commitSeconds)).median }
  }

  static func workloads(quick: Bool) -> [(Workload, saveCount: Int)] {
    if quick {
      return [
        (Workload(dtype: .float32, byteCount: 64 << 20, tensorCount: 300), 5),
        (Workload(dtype: .bfloat16, byteCount: 64 << 20, tensorCount: 300), 5),
      ]
    }
    return [
      (Workload(dtype: .float32, byteCount: 64 << 20, tensorCount: 300), 20),
      (Workload(dtype: .float32, byteCount: 256 << 20, tensorCount: 300), 10),
      (Workload(dtype: .float32, byteCount: 1 << 30, tensorCount: 300), 5),
      (Workload(dtype: .float32, byteCount: 2 << 30, tensorCount: 300), 3),
      (Workload(dtype: .bfloat16, byteCount: 256 << 20, tensorCount: 300), 10),
      (Workload(dtype: .bfloat16, byteCount: 1 << 30, tensorCount: 300), 5),
      (Workload(dtype: .float16, byteCount: 256 << 20, tensorCount: 300), 10),
    ]
  }

  static func run(quick: Bool, root: String) async throws -> String {
    var records: [Record] = []
    for (workload, saveCount) in workloads(quick: quick) {
      log("save: \(workload), \(saveCount) saves")
      records.append(
        try await measure(workload, saveCount: saveCount, quick: quick, root: root))
    }
    recordTargets(records)
    return render(records)
  }

  static func recordTargets(_ records: [Record]) {
    for record in records {
      let name = "\(record.workload)"
      let raw = Double(record.rawByteCount)
      let stall = Timings(samples: record.saves.map(\.stallSeconds)).p99
      TargetBoard.record(
        "save stall p99 ≤ 5 ms", workload: name, measured: formatMilliseconds(stall),
        isMet: stall <= 0.005)

      let storedFraction = Double(record.storedByteCount) / raw
      let diskBound = raw / record.rawWriteSeconds / storedFraction
      let codecBound = raw / record.inMemorySaveSeconds
      let achieved = raw / record.commitSeconds
      let share = achieved / min(diskBound, codecBound)
      TargetBoard.record(
        "async save ≥ 90% of min(disk, codec)", workload: name,
        measured: String(
          format: "%.0f%% (%.2f of min(%.2f disk ÷ %.3f, %.2f codec) GB/s)", share * 100,
          achieved / 1e9, raw / record.rawWriteSeconds / 1e9, storedFraction, codecBound / 1e9),
        isMet: share >= 0.9)

      if record.safetensors.missingReason == nil {
        TargetBoard.record(
          "load ≥ safetensors load", workload: name,
          measured: String(
            format: "%.2f× cached, %.2f× cold",
            record.safetensors.loadSeconds / record.loadSeconds,
            record.safetensors.coldLoadSeconds / record.coldLoadSeconds),
          isMet: record.safetensors.loadSeconds >= record.loadSeconds
            && record.safetensors.coldLoadSeconds >= record.coldLoadSeconds)
      }
      let sizeLimit: Double? =
        switch record.workload.dtype {
        case .float32: 0.85
        case .bfloat16: 0.69
        default: nil
        }
      if let sizeLimit {
        TargetBoard.record(
          "bytes on disk ≤ \(sizeLimit) of raw", workload: name,
          measured: formatFraction(storedFraction), isMet: storedFraction <= sizeLimit)
      }
    }
    let float32 = records.filter { $0.workload.dtype == .float32 }
    if let smallest = float32.first, let largest = float32.last, float32.count > 1 {
      let growth =
        (Double(largest.rawByteCount) / largest.commitSeconds)
        / (Double(smallest.rawByteCount) / smallest.commitSeconds)
      TargetBoard.record(
        "throughput grows linearly with size (≥ 0.9× from smallest to largest)",
        workload:
          "f32 \(formatByteCount(smallest.workload.byteCount)) → \(formatByteCount(largest.workload.byteCount))",
        measured: formatRatio(growth), isMet: growth >= 0.9)
    }
  }

  static func measure(_ workload: Workload, saveCount: Int, quick: Bool, root: String)
    async throws -> Record
  {
    let directory = root + "/save"
    try BenchmarkFiles.freshDirectory(directory)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let state = await workload.makeState()

    // The disk's limit first, on the same bytes; it also leaves the raw file for the peers.
    let rawPath = directory + "/raw.bin"
    var rawWrites: [Double] = []
    for _ in 0..<3 {
      try? FileManager.default.removeItem(atPath: rawPath)
      rawWrites.append(try Peers.writeRawDurably(state, to: rawPath))
    }
    let rawWriteSeconds = Timings(samples: rawWrites).median

    var options = CheckpointManager.Options()
    options.retention = RetentionPolicy(keepLast: 1)
    // The peak restarts from the current resident size, so the baseline is read after it.
    ProcessMemory.resetPeak()
    let baseline = ProcessMemory.residentByteCount
    let profiler = Profiler()
    let saves = try await SaveRunner(
      directory: directory + "/store", options: options, profiler: profiler
    )
    .saveSequentially(state, steps: 0..<Int64(saveCount))
    let peak = ProcessMemory.peakResidentByteCount
    let fsyncSeconds =
      profiler.summary().filter { $0.name == "checkpoint.fsync" }.reduce(0) { $0 + $1.totalSeconds }
      / Double(saveCount)
    let checkpoint = saves.last!.committed

    var loads: [Double] = []
    for _ in 0..<2 { loads.append(try await timeLoad(checkpoint.path)) }
    BenchmarkFiles.dropFromPageCache(checkpoint.path)
    let coldLoad = try await timeLoad(checkpoint.path)

    let memoryDirectory = "/dev/shm/waymark-bench-save-\(getpid())"
    try BenchmarkFiles.freshDirectory(memoryDirectory)
    defer { try? FileManager.default.removeItem(atPath: memoryDirectory) }
    let inMemory = try await SaveRunner(directory: memoryDirectory, options: options)
      .saveSequentially(state, steps: 0..<2)
    try? FileManager.default.removeItem(atPath: memoryDirectory)

    let zstdRuns = (0..<2).map { _ in Peers.zstdCommandLine(rawPath: rawPath, level: "-1") }
    let zstd = zstdRuns.min { $0.saveSeconds < $1.saveSeconds }!
    let python = Peers.python(
      rawPath: rawPath, workDirectory: directory, repeats: quick ? 1 : 3)
    return Record(
      workload: workload, saves: saves, storedByteCount: checkpoint.storedByteCount.asInt,
      peakExtraByteCount: peak.flatMap { peak in baseline.map { max(0, peak - $0) } },
      loadSeconds: Timings(samples: loads).median, coldLoadSeconds: coldLoad,
      inMemorySaveSeconds: Timings(samples: inMemory.map(\.commitSeconds)).median,
      rawWriteSeconds: rawWriteSeconds, fsyncSeconds: fsyncSeconds, zstd: zstd,
      safetensors: python["safetensors"]!, savez: python["numpy.savez"]!)
  }

  static func render(_ records: [Record]) -> String {
    var report = "## Save and load against peers\n\n"
    report += "Each workload is one training state of weights and Adam moments in "
    report += "equal shares (`layers.N.weight`, `.exp_avg`, `.exp_avg_sq`), 300 tensors. "
    report += "Throughputs are raw state bytes per second. *Disk limit* writes the raw bytes "
    report += "with `pwrite` and one `fsync`. *Commit* is from calling `save` to "
    report += "`waitForCommit` returning, with the default codec and saves one after another. "
    report += "*In memory* is the same save into `/dev/shm`, which is the codec and writer "
    report += "on all cores without the disk. Peers save with `fsync` too.\n\n"

    var save = MarkdownTable([
      "workload", "saves", "stall p50", "stall p99", "stall max", "Waymark commit",
      "fsync share", "disk limit", "in memory", "zstd -T0 -1", "safetensors", "numpy.savez",
      "vs safetensors", "vs disk limit",
    ])
    for record in records {
      let raw = record.rawByteCount
      let stalls = Timings(samples: record.saves.map(\.stallSeconds))
      save.append([
        "\(record.workload)", "\(record.saves.count)", formatMilliseconds(stalls.median),
        formatMilliseconds(stalls.p99), formatMilliseconds(stalls.max),
        formatThroughput(raw, record.commitSeconds),
        String(
          format: "%.0f%%",
          record.fsyncSeconds / Timings(samples: record.saves.map(\.commitSeconds)).mean * 100),
        formatThroughput(raw, record.rawWriteSeconds),
        formatThroughput(raw, record.inMemorySaveSeconds), peerThroughput(record.zstd, raw),
        peerThroughput(record.safetensors, raw), peerThroughput(record.savez, raw),
        formatRatio(record.safetensors.saveSeconds / record.commitSeconds),
        formatRatio(record.rawWriteSeconds / record.commitSeconds),
      ])
    }
    report += "### Save\n\n" + save.rendered() + "\n\n"
    var missing: [String: String] = [:]
    for record in records {
      let peers = [
        ("zstd", record.zstd), ("safetensors", record.safetensors), ("numpy.savez", record.savez),
      ]
      for (name, peer) in peers {
        if let reason = peer.missingReason { missing[name] = reason }
      }
    }
    for (name, reason) in missing.sorted(by: { $0.key < $1.key }) {
      report += "Missing peer \(name): \(reason).\n"
    }
    if !missing.isEmpty { report += "\n" }
    report += "*vs* columns are the peer's time over Waymark's: above 1× Waymark is faster. "
    report += "*fsync share* is the part of the commit time spent in `fsync` after every chunk "
    report += "is written, when the disk flushes what the page cache holds.\n\n"

    var load = MarkdownTable([
      "workload", "Waymark", "Waymark cold", "safetensors", "safetensors cold", "numpy.savez",
      "numpy.savez cold", "vs safetensors", "vs safetensors cold",
    ])
    for record in records {
      let raw = record.rawByteCount
      load.append([
        "\(record.workload)", formatThroughput(raw, record.loadSeconds),
        formatThroughput(raw, record.coldLoadSeconds),
        peerThroughput(record.safetensors, raw, \.loadSeconds),
        peerThroughput(record.safetensors, raw, \.coldLoadSeconds),
        peerThroughput(record.savez, raw, \.loadSeconds),
        peerThroughput(record.savez, raw, \.coldLoadSeconds),
        formatRatio(record.safetensors.loadSeconds / record.loadSeconds),
        formatRatio(record.safetensors.coldLoadSeconds / record.coldLoadSeconds),
      ])
    }
    report += "### Load\n\n"
    report += "Waymark loads check every chunk's XXH3-64 checksum and decode on all cores. "
    report += "*Cold* drops the files from the page cache first with "
    report += "`posix_fadvise(POSIX_FADV_DONTNEED)` after they were fsynced.\n\n"
    report += load.rendered() + "\n\n"

    var size = MarkdownTable([
      "workload", "Waymark bytes/raw", "zstd -1 bytes/raw", "safetensors bytes/raw",
      "numpy.savez bytes/raw", "peak extra memory while saving", "state",
    ])
    for record in records {
      let raw = Double(record.rawByteCount)
      size.append([
        "\(record.workload)", formatFraction(Double(record.storedByteCount) / raw),
        peerFraction(record.zstd, raw), peerFraction(record.safetensors, raw),
        peerFraction(record.savez, raw),
        record.peakExtraByteCount.map(formatByteCount) ?? "unknown",
        formatByteCount(record.rawByteCount),
      ])
    }
    report += "### Bytes on disk and memory\n\n"
    report += "Peak extra memory is the peak resident size during the saves (`VmHWM`, reset "
    report += "through `/proc/self/clear_refs` first) minus the resident size before them, "
    report += "which already holds the state.\n\n"
    report += size.rendered() + "\n"
    return report
  }

  static func peerThroughput(
    _ peer: PeerResult, _ raw: Int, _ field: KeyPath<PeerResult, Double> = \.saveSeconds
  ) -> String {
    if peer.missingReason != nil { return "missing" }
    return formatThroughput(raw, peer[keyPath: field])
  }

  static func peerFraction(_ peer: PeerResult, _ raw: Double) -> String {
    if peer.missingReason != nil { return "missing" }
    return formatFraction(Double(peer.byteCount) / raw)
  }
}

extension Int64 {
  var asInt: Int { Int(self) }
}

/// Prints progress to standard error, so standard output contains only the report.
func log(_ message: String) {
  FileHandle.standardError.write(Data(("• " + message + "\n").utf8))
}
