import Foundation
import WaymarkCore
import WaymarkTracking

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Benchmarks of the experiment tracker: the cost of `log` on the caller, durable metric
/// throughput, profiler cost per span, and the time to open a run.
enum TrackingBenchmarks {
  /// Runs every tracking benchmark and returns a Markdown section with the results.
  ///
  /// `quick` shrinks each workload about tenfold.
  static func run(quick: Bool) async throws -> String {
    let root = FileManager.default.temporaryDirectory
      .appendingPathComponent("waymark-tracking-bench-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }

    let logCalls = quick ? 200_000 : 2_000_000
    let throughputPoints = quick ? 1_000_000 : 10_000_000
    let spanCount = quick ? 200_000 : 2_000_000
    let startCount = quick ? 10 : 50

    let logCost = try await measureLogCost(root: root, calls: logCalls)
    let pacedCost = try await measurePacedLogCost(root: root, bursts: quick ? 50 : 500)
    let plain = try await measureThroughput(
      root: root, points: throughputPoints, writesTensorBoard: false)
    let withTensorBoard = try await measureThroughput(
      root: root, points: throughputPoints, writesTensorBoard: true)
    let spanCost = measureSpanCost(count: spanCount)
    let startLatency = try await measureStartLatency(root: root, count: startCount)

    let rows: [(String, String, String)] = [
      ("`log` on the caller, back to back, median", "\(format(logCost.median)) ns", "< 1000 ns"),
      ("`log` on the caller, back to back, p99", "\(format(logCost.p99)) ns", ""),
      (
        "`log` on the caller, back to back, mean without timers", "\(format(logCost.batchMean)) ns",
        ""
      ),
      ("`log` on the caller, paced bursts, median", "\(format(pacedCost.median)) ns", "< 1000 ns"),
      ("`log` on the caller, paced bursts, p99", "\(format(pacedCost.p99)) ns", ""),
      ("durable metrics, metrics.jsonl only", rate(plain), "≥ 1,000,000 points/s"),
      ("durable metrics, metrics.jsonl and TensorBoard", rate(withTensorBoard), ""),
      ("profiler span, `measure`", "\(format(spanCost.measure)) ns", ""),
      ("profiler span, `record`", "\(format(spanCost.record)) ns", ""),
      (
        "open a run, median (max)",
        "\(format(startLatency.median)) ms (\(format(startLatency.max)) ms)", "< 100 ms"
      ),
    ]
    let notes = [
      "`log` timings read the monotonic clock around each call. Reading it twice costs "
        + "\(format(logCost.timerOverhead)) ns here, which the medians and p99s include.",
      "Back to back is \(logCalls) calls in a row, far faster than the writer thread drains them, "
        + "so the buffer keeps growing into fresh memory and page faults land in the p99. Paced "
        + "bursts are 1,000 calls followed by a 2 ms pause, closer to a training loop.",
      "Durable throughput is \(throughputPoints) single-value `log` calls on one thread followed by "
        + "`flush()`, which returns after the writer thread's fsync. Points per CPU second divide by "
        + "the process's user and system time, so they count the caller and the writer thread.",
      "Opening a run writes run.json, heartbeat.json and the first event with fsyncs. The code "
        + "snapshot is off and the slow probes run in the background.",
      "Workload: \(logCalls) log calls, \(spanCount) spans, \(startCount) run starts"
        + (quick ? " (`--quick`)." : "."),
      "Machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpuModel()).",
    ]

    var text = "## Tracking\n\n| benchmark | result | target |\n|---|---|---|\n"
    for (name, result, target) in rows {
      text += "| \(name) | \(result) | \(target) |\n"
    }
    text += "\n"
    for note in notes {
      text += "- \(note)\n"
    }
    return text
  }

  private struct LogCost {
    var median: Double
    var p99: Double
    var batchMean: Double
    var timerOverhead: Double
  }

  private struct Throughput {
    var pointsPerSecond: Double
    var pointsPerCPUSecond: Double
  }

  private static func options(writesTensorBoard: Bool = true) -> RunOptions {
    var options = RunOptions()
    options.codeSnapshot = .disabled
    options.probesSlowEnvironment = false
    options.writesTensorBoard = writesTensorBoard
    return options
  }

  private static func measureLogCost(root: String, calls: Int) async throws -> LogCost {
    let run = try await Run.start(experiment: "log-cost", in: root, options: options())
    var durations = [UInt64](repeating: 0, count: calls)
    for index in 0..<calls {
      let start = MonotonicClock.nanoseconds()
      try run.log("train/loss", Double(index), step: index)
      durations[index] = MonotonicClock.nanoseconds() &- start
    }
    try await run.flush()

    let batchStart = MonotonicClock.nanoseconds()
    for index in 0..<calls {
      try run.log("train/loss", Double(index), step: calls + index)
    }
    let batchMean = Double(MonotonicClock.nanoseconds() - batchStart) / Double(calls)
    try await run.finish()

    var overheads = [UInt64](repeating: 0, count: 100_000)
    for index in overheads.indices {
      let start = MonotonicClock.nanoseconds()
      overheads[index] = MonotonicClock.nanoseconds() &- start
    }
    durations.sort()
    overheads.sort()
    return LogCost(
      median: Double(durations[calls / 2]), p99: Double(durations[calls * 99 / 100]),
      batchMean: batchMean,
      timerOverhead: Double(overheads[overheads.count / 2]))
  }

  /// Times each `log` call in bursts of 1,000 calls with a 2 ms pause after each burst.
  private static func measurePacedLogCost(root: String, bursts: Int) async throws -> (
    median: Double, p99: Double
  ) {
    var pacedOptions = options()
    pacedOptions.flushIntervalSeconds = 0.01
    let run = try await Run.start(experiment: "paced-log-cost", in: root, options: pacedOptions)
    let burstSize = 1_000
    var durations = [UInt64](repeating: 0, count: bursts * burstSize)
    for burst in 0..<bursts {
      for call in 0..<burstSize {
        let index = burst * burstSize + call
        let start = MonotonicClock.nanoseconds()
        try run.log("train/loss", Double(index), step: index)
        durations[index] = MonotonicClock.nanoseconds() &- start
      }
      try await Task.sleep(for: .milliseconds(2))
    }
    try await run.finish()
    durations.sort()
    return (Double(durations[durations.count / 2]), Double(durations[durations.count * 99 / 100]))
  }

  private static func measureThroughput(root: String, points: Int, writesTensorBoard: Bool)
    async throws
    -> Throughput
  {
    let run = try await Run.start(
      experiment: "throughput", in: root, options: options(writesTensorBoard: writesTensorBoard))
    try await run.flush()
    let cpuStart = processCPUSeconds()
    let start = MonotonicClock.nanoseconds()
    for index in 0..<points {
      try run.log("train/loss", 1.0 / Double(index + 1), step: index)
    }
    try await run.flush()
    let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
    let cpuSeconds = processCPUSeconds() - cpuStart
    try await run.finish()
    return Throughput(
      pointsPerSecond: Double(points) / seconds, pointsPerCPUSecond: Double(points) / cpuSeconds)
  }

  private static func measureSpanCost(count: Int) -> (measure: Double, record: Double) {
    let profiler = Profiler()
    let measureStart = MonotonicClock.nanoseconds()
    for _ in 0..<count {
      profiler.measure("bench.span", category: "bench") {}
    }
    let measure = Double(MonotonicClock.nanoseconds() - measureStart) / Double(count)

    let recordStart = MonotonicClock.nanoseconds()
    for _ in 0..<count {
      profiler.record(
        name: "bench.record", category: "bench", startNanoseconds: MonotonicClock.nanoseconds())
    }
    let record = Double(MonotonicClock.nanoseconds() - recordStart) / Double(count)
    return (measure, record)
  }

  private static func measureStartLatency(root: String, count: Int) async throws -> (
    median: Double, max: Double
  ) {
    var latencies: [Double] = []
    var startOptions = options()
    startOptions.probesSlowEnvironment = true
    for _ in 0..<count {
      let start = MonotonicClock.nanoseconds()
      let run = try await Run.start(
        experiment: "start-latency", in: root, config: ["lr": 0.1], options: startOptions)
      latencies.append(Double(MonotonicClock.nanoseconds() - start) / 1e6)
      try await run.finish()
    }
    latencies.sort()
    return (latencies[latencies.count / 2], latencies.last ?? 0)
  }

  private static func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
      getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
      getrusage(RUSAGE_SELF, &usage)
    #endif
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
  }

  private static func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
      return "unknown CPU"
    }
    let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
    return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map {
      $0.trimmingCharacters(in: .whitespaces)
    } ?? "unknown CPU"
  }

  private static func format(_ value: Double) -> String {
    String(format: value < 10 ? "%.2f" : "%.0f", value)
  }

  private static func rate(_ throughput: Throughput) -> String {
    let wall = Int(throughput.pointsPerSecond.rounded()).formatted()
    let cpu = Int(throughput.pointsPerCPUSecond.rounded()).formatted()
    return "\(wall) points/s (\(cpu) per CPU second)"
  }
}
