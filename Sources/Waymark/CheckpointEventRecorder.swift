import WaymarkCheckpoint
import WaymarkCore
import WaymarkTracking

/// Writes the checkpoint manager's events into the run's event log, and its failures into
/// the run's error log.
enum CheckpointEventRecorder {
  /// Records `event` in `run`. Recording never throws into the writer: a run that has
  /// finished simply drops late events.
  static func record(_ event: CheckpointEvent, in run: Run) {
    switch event {
    case .saveQueued(let step, let stall):
      _ = try? run.recordEvent(
        "checkpointQueued", message: "checkpoint of step \(step) captured", step: Int(step),
        data: ["stallSeconds": .double(stall)])
    case .committed(let checkpoint):
      _ = try? run.recordEvent(
        .checkpoint,
        message: "checkpoint of step \(checkpoint.step) committed at \(checkpoint.path)",
        step: Int(checkpoint.step),
        data: [
          "path": .string(checkpoint.path), "rawBytes": .int(checkpoint.rawByteCount),
          "storedBytes": .int(checkpoint.storedByteCount),
          "writeSeconds": .double(checkpoint.writeSeconds),
        ])
    case .saveFailed(let step, let error):
      _ = try? run.recordError(
        error, context: ["operation": "checkpoint.save", "step": "\(step)"], step: Int(step))
    case .saveSkipped(let step, let reason):
      _ = try? run.recordEvent(
        "checkpointSkipped", message: "checkpoint of step \(step) skipped: \(reason)",
        step: Int(step))
    case .checkpointSkipped(let step, let path, let reason):
      _ = try? run.recordEvent(
        .warning, message: "resume passed over the damaged checkpoint of step \(step): \(reason)",
        step: Int(step), data: ["path": .string(path)])
    case .checkpointDeleted(let step, let reason):
      _ = try? run.recordEvent(
        "checkpointDeleted", message: "retention deleted the checkpoint of step \(step): \(reason)",
        step: Int(step))
    case .retentionFailed(let error):
      _ = try? run.recordError(error, context: ["operation": "checkpoint.retention"])
    case .leftoversRemoved(let names):
      _ = try? run.recordEvent(
        "checkpointLeftoversRemoved",
        message: "removed leftovers of interrupted saves: \(names.joined(separator: ", "))")
    case .lockTakenOver(let pid, let host):
      _ = try? run.recordEvent(
        .warning,
        message: "took over the checkpoint store lock left by pid \(pid) on \(host), which is gone",
        data: ["pid": .int(Int64(pid)), "host": .string(host)])
    }
  }
}
