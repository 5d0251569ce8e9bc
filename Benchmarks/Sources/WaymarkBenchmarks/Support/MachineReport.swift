import Foundation
import WaymarkCore

/// The facts about the machine and the run that every report starts with.
enum MachineReport {
  static func header(quick: Bool, suites: [String]) -> String {
    let info = ProcessInfo.processInfo
    var lines = ["# Waymark benchmark report", ""]
    lines.append("- date: \(ISO8601DateFormatter().string(from: Date()))")
    lines.append("- mode: \(quick ? "quick" : "full"); suites: \(suites.joined(separator: ", "))")
    lines.append(
      "- machine: \(cpuModel()), \(info.activeProcessorCount) cores, \(formatByteCount(Int(info.physicalMemory))) memory"
    )
    lines.append("- kernel: \(firstLine(of: "/proc/version") ?? "unknown")")
    lines.append("- load at start: \(loadAverage())")
    lines.append("- zstd command: \(commandVersion(["zstd", "--version"]))")
    lines.append("- pool threads: \(BlockingThreadPool.shared.threadCount)")
    lines.append(memoryProbe())
    return lines.joined(separator: "\n") + "\n"
  }

  static func footer(startedAt: Date) -> String {
    var lines = ["## Run", ""]
    lines.append("- load at end: \(loadAverage())")
    lines.append(String(format: "- duration: %.0f s", Date().timeIntervalSince(startedAt)))
    if !Peers.pythonVersions.isEmpty {
      let versions = Peers.pythonVersions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
      lines.append("- Python peers: \(versions.joined(separator: ", "))")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes the report to `Benchmarks/results/`, which git ignores.
  static func save(_ report: String, quick: Bool) {
    let directory = Peers.packageRoot + "/Benchmarks/results"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
    let path = directory + "/report-\(quick ? "quick-" : "")\(stamp).md"
    try? report.write(toFile: path, atomically: true, encoding: .utf8)
    log("report written to \(path)")
  }

  /// Measures how fast this machine fills memory it has just mapped and memory it has
  /// filled before, 1 GiB each, and returns a report line.
  ///
  /// On a virtual machine whose host hands memory back and forth, a fresh page can cost far
  /// more than on bare metal, and every benchmark that allocates (loads, copies, the page
  /// cache) pays it.
  static func memoryProbe() -> String {
    let byteCount = 1 << 30
    let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 4096)
    defer { piece.deallocate() }
    let fresh = secondsElapsed { piece.initializeMemory(as: UInt8.self, repeating: 1) }
    let warm = secondsElapsed { piece.initializeMemory(as: UInt8.self, repeating: 2) }
    return "- memory fill: \(formatThroughput(byteCount, fresh)) into fresh pages, "
      + "\(formatThroughput(byteCount, warm)) into pages already touched (1 GiB each)"
  }

  static func loadAverage() -> String {
    firstLine(of: "/proc/loadavg").map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
      ?? "unknown"
  }

  private static func cpuModel() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
      return "unknown CPU"
    }
    let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
    return line.map {
      String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces)
    }
      ?? "unknown CPU"
  }

  private static func firstLine(of path: String) -> String? {
    (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").first.map(
      String.init)
  }

  private static func commandVersion(_ command: [String]) -> String {
    guard let executable = Peers.findExecutable(command[0]) else { return "missing" }
    let output = (try? Peers.runProcess(executable, Array(command.dropFirst()))) ?? "failed"
    return output.split(separator: "\n").first.map(String.init) ?? output
  }
}
