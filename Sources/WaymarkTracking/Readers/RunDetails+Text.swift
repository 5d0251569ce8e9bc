import Foundation
import WaymarkCore

extension RunDetails {
  /// Renders the details as sections: run, environment, config, metrics, checkpoints,
  /// profile and errors.
  public func renderText() -> String {
    var text = "Run \(record.id) (\(record.name))\n"
    text += "  experiment   \(record.experiment)\n"
    text += "  directory    \(directory)\n"
    text += "  status       \(status.rawValue)"
    text += record.errorMessage.map { " - \($0)" } ?? ""
    text += "\n"
    text += "  started      \(TextFormat.time(record.startTime))\n"
    text += "  ended        \(TextFormat.time(record.endTime))\n"
    text += "  duration     \(TextFormat.duration(durationSeconds))\n"
    text += "  last step    \(lastStep.map(String.init) ?? "-")\n"
    text += "  resumes      \(record.resumes.count)\n"
    if !record.tags.isEmpty { text += "  tags         \(record.tags.joined(separator: ", "))\n" }
    if !record.description.isEmpty { text += "  description  \(record.description)\n" }
    if let heartbeat {
      text +=
        "  heartbeat    \(TextFormat.time(heartbeat.time)) from pid \(heartbeat.pid) on \(heartbeat.host)\n"
    }

    let environment = record.environment
    text += "\nEnvironment\n"
    text += "  host         \(environment.host)\n"
    text +=
      "  os           \(environment.operatingSystem) (\(environment.kernel.name) \(environment.kernel.release), \(environment.kernel.machine))\n"
    text +=
      "  cpu          \(environment.cpuModel ?? "unknown"), \(environment.activeCpuCoreCount) of \(environment.cpuCoreCount) cores\n"
    text += "  memory       \(TextFormat.bytes(Int64(clamping: environment.memoryByteCount)))\n"
    for accelerator in environment.accelerators { text += "  accelerator  \(accelerator.name)\n" }
    text +=
      "  swift        \(environment.swiftToolchainVersion ?? "compiler \(environment.swiftCompilerVersion)")\n"
    if let git = environment.git {
      let dirty = git.isDirty == true ? " (dirty)" : ""
      text += "  git          \(git.commit ?? "no commit")\(dirty) on \(git.branch ?? "-")\n"
      if let remote = git.remote { text += "  remote       \(remote)\n" }
    }
    if let snapshot = record.codeSnapshot {
      text +=
        "  code         \(snapshot.outcome.rawValue): \(snapshot.copiedFileCount) files, \(TextFormat.bytes(snapshot.copiedByteCount))"
      if snapshot.skippedFileCount > 0 {
        text += ", \(snapshot.skippedFileCount) files left out by the cap"
      }
      text += "\n"
    }

    text += "\nConfig (\(record.configHash))\n"
    let leaves = ConfigPaths.leaves(of: record.config).sorted { $0.key < $1.key }
    if leaves.isEmpty { text += "  (empty)\n" }
    for (path, value) in leaves { text += "  \(path) = \(CanonicalJSON.string(of: value))\n" }

    text += "\nMetrics\n"
    if metrics.isEmpty {
      text += "  (none)\n"
    } else {
      var table = TextTable(header: ["  NAME", "COUNT", "LAST", "MIN", "MAX", "MEAN", "NON-FINITE"])
      for (name, summary) in metrics.sorted(by: { $0.key < $1.key }) {
        table.rows.append([
          "  \(name)", "\(summary.count)",
          "\(TextFormat.number(summary.last)) @ \(summary.lastStep)",
          summary.min.map { "\(TextFormat.number($0)) @ \(summary.stepOfMin ?? 0)" } ?? "-",
          summary.max.map { "\(TextFormat.number($0)) @ \(summary.stepOfMax ?? 0)" } ?? "-",
          TextFormat.number(summary.mean), "\(summary.nonFiniteCount)",
        ])
      }
      text += table.render()
    }
    if skippedMetricLineCount > 0 {
      text += "  \(skippedMetricLineCount) lines of metrics.jsonl were skipped as invalid or torn\n"
    }

    text += "\nCheckpoints\n"
    text += checkpoints.isEmpty ? "  (none)\n" : checkpoints.map { "  \($0)\n" }.joined()

    if let profile, !profile.operations.isEmpty {
      text += "\nProfile\n"
      var table = TextTable(header: ["  OPERATION", "COUNT", "TOTAL", "MEAN", "P50", "P95", "MAX"])
      for operation in profile.operations {
        table.rows.append([
          "  \(operation.name)", "\(operation.count)", seconds(operation.totalSeconds),
          seconds(operation.meanSeconds), seconds(operation.p50Seconds),
          seconds(operation.p95Seconds),
          seconds(operation.maxSeconds),
        ])
      }
      text += table.render()
    }

    text += "\nEvents: \(eventCount), errors: \(errors.count)\n"
    for error in errors.suffix(5) {
      text += "  #\(error.id) \(error.message)\n"
    }
    return text
  }

  /// Formats a span duration with three significant digits, such as `12.9ms` or `750µs`.
  private func seconds(_ value: Double) -> String {
    if value >= 60 { return TextFormat.duration(value) }
    if value >= 1 { return String(format: "%.3gs", value) }
    if value >= 1e-3 { return String(format: "%.3gms", value * 1e3) }
    return String(format: "%.3gµs", value * 1e6)
  }
}
