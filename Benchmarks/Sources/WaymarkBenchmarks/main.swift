import Foundation

// Entry point of the benchmark runner: `WaymarkBenchmarks [SUITE…] [--quick]`. With no suite
// named it runs all of them. `--quick` shrinks every workload so that the run takes about a
// minute, and it sets up no Python peers. Any peer that cannot run is listed as missing.
let arguments = Array(CommandLine.arguments.dropFirst())
let isQuick = arguments.contains("--quick")
// `stall` changes how malloc serves large blocks for the rest of the process, so it runs last.
let allSuites = ["codecs", "save", "tensors", "training", "resume", "tracking", "stall"]
let requested = arguments.filter { !$0.hasPrefix("--") }
let unknown = requested.filter { !allSuites.contains($0) }
guard unknown.isEmpty else {
  FileHandle.standardError.write(
    Data(
      "unknown suite \(unknown.joined(separator: ", ")); the suites are \(allSuites.joined(separator: ", "))\n"
        .utf8))
  exit(2)
}
let suites = requested.isEmpty ? allSuites : requested

let startedAt = Date()
let root = FileManager.default.temporaryDirectory.path + "/waymark-bench-\(getpid())"
try BenchmarkFiles.freshDirectory(root)
defer { try? FileManager.default.removeItem(atPath: root) }

var report = MachineReport.header(quick: isQuick, suites: suites)
print(report)
for suite in suites {
  let section: String
  switch suite {
  case "codecs": section = try await CodecSuite.run(quick: isQuick)
  case "save": section = try await SaveSuite.run(quick: isQuick, root: root)
  case "tensors": section = try await TensorCountSuite.run(quick: isQuick, root: root)
  case "stall": section = try await StallSuite.run(quick: isQuick, root: root)
  case "training": section = try await TrainingSuite.run(quick: isQuick, root: root)
  case "resume": section = try await ResumeSuite.run(quick: isQuick, root: root)
  case "tracking": section = try await TrackingBenchmarks.run(quick: isQuick)
  default: continue
  }
  print(section)
  report += "\n" + section
}
if !TargetBoard.rows.isEmpty {
  let targets = TargetBoard.rendered()
  print(targets)
  report += "\n" + targets
}
let footer = MachineReport.footer(startedAt: startedAt)
print(footer)
report += "\n" + footer
MachineReport.save(report, quick: isQuick)
