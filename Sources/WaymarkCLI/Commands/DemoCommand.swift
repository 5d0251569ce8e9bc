import Foundation
import Waymark
import WaymarkDemo

/// `waymark demo`: trains a character-level language model on real text, checkpointing in
/// the background, and reports how long saving held the loop.
enum DemoCommand: Command {
  static let name = "demo"
  static let summary = "Train a small character-level language model with background checkpoints"
  static let defaultSteps: Int64 = 3000
  static let defaultCheckpointEvery: Int64 = 250

  static let help = """
    Usage: waymark demo [--data PATH] [--steps N] [--size SIZE] [options]

    Trains a character-level language model written in plain Swift (embedding, tanh hidden
    layer, softmax, Adam) on real text, logs training and validation loss, and saves a
    checkpoint of its parameters, Adam moments and RNG state every --checkpoint-every steps
    without waiting for the disk. Ends with a summary: the run directory, steps per second,
    checkpoints written, and how long each save held the loop next to how long the
    background write took. Ctrl-C saves a final checkpoint and marks the run interrupted;
    a second Ctrl-C exits at once.

    Options:
      --data PATH               Text file, or folder searched for .swift and .md files
                                (default: the current directory; at most 8 MiB is read).
      --steps N                 Total training steps (default \(defaultSteps)).
      --size SIZE               Model size: small (3 MB state, default), medium (11 MB),
                                large (53 MB) or huge (412 MB). Larger states show that
                                saving does not stall training; training is slower.
      --seed N                  Seed of initialization and batch sampling (default 1).
      --checkpoint-every N      Steps between checkpoints (default \(defaultCheckpointEvery)).
      --eval-every N            Steps between validation-loss evaluations (default: the
                                checkpoint interval, so every checkpoint records it).
      --runs DIR                Directory of runs (default: runs).
      --experiment NAME         Experiment name, the folder under --runs (default: demo).
      --resume RUN_DIR          Continue that run from its newest valid checkpoint, with
                                the settings it started with; --steps may extend it.
      --keep-last N, --keep-best K, --metric NAME, --mode min|max, --min-improvement X,
      --keep-every M, --keep-one-per DURATION
                                Retention rules, as in 'waymark gc' (default: keep the
                                last 3 and the best by val/loss).
      --writer-priority P       Priority of the threads that compress and write
                                checkpoints: normal (default), background (nice 19) or
                                idle (only cores that would otherwise be idle; Linux).
                                When training keeps every core busy, lower priorities
                                slow it less and the saves more; the demo trains on one
                                core, so on two or more cores it barely differs.
      --json                    Print the summary as JSON instead of text.
      --quiet                   No progress line.
      --help                    Show this help.

    Exit status: 0 when training finished, 130 when Ctrl-C or SIGTERM stopped it after a
    final checkpoint, 1 when a checkpoint failed or training failed, 2 for a usage error or
    a missing --data or --resume path.
    """
  static let valueOptions = Set([
    "data", "steps", "size", "seed", "checkpoint-every", "eval-every", "runs", "experiment",
    "resume", "writer-priority",
  ]).union(GCCommand.valueOptions)
  static let flagOptions: Set<String> = ["json", "quiet"]

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    _ = try arguments.requirePositionals([])
    var options = DemoTrainer.Options(settings: try settings(from: arguments))
    options.runsDirectory = arguments.value("runs") ?? "runs"
    options.experiment = arguments.value("experiment") ?? "demo"
    options.resume = arguments.value("resume")
    options.retention = try retention(from: arguments)
    options.writerPriority = try writerPriority(from: arguments)
    options.logger = Logger.standardError(label: "waymark.demo", logLevel: .warning)
    let showsProgress = !arguments.flag("quiet")
    options.progress = { progress in
      if showsProgress { console.progress(progressLine(progress)) }
    }
    if let steps = try arguments.integer("steps", default: nil, in: Int64(1)...Int64(1) << 40),
      options.resume != nil
    {
      options.stepsOverride = steps
    }

    let summary = try await DemoTrainer.run(options)
    console.clearProgress()
    if arguments.flag("json") {
      try console.printJSON(summary)
    } else {
      printSummary(summary, console: console)
    }
    guard summary.checkpointsFailed == 0 else { return .problemsFound }
    // 130 is the shell's status for a process stopped by Ctrl-C, so scripts can tell an
    // interrupted run from a finished one.
    return summary.isComplete ? .success : .interrupted
  }

  private static func settings(from arguments: ParsedArguments) throws -> DemoRunSettings {
    let sizeName = arguments.value("size") ?? DemoModelSize.small.rawValue
    guard let size = DemoModelSize(rawValue: sizeName) else {
      let names = DemoModelSize.allCases.map(\.rawValue).joined(separator: ", ")
      throw UsageError("--size must be one of \(names), not '\(sizeName)'")
    }
    var model = size.configuration
    if let seed = try arguments.integer("seed", default: nil, in: UInt64(0)...UInt64.max) {
      model.seed = seed
    }
    let checkpointEvery = try arguments.integer(
      "checkpoint-every", default: defaultCheckpointEvery, in: 1...Int64.max)!
    let dataPath = URL(fileURLWithPath: arguments.value("data") ?? ".").standardizedFileURL.path
    return DemoRunSettings(
      dataPath: dataPath,
      steps: try arguments.integer("steps", default: defaultSteps, in: 1...Int64(1) << 40)!,
      size: size, model: model, checkpointEverySteps: checkpointEvery,
      evaluateEverySteps: try arguments.integer(
        "eval-every", default: checkpointEvery, in: 1...Int64.max)!)
  }

  private static func writerPriority(from arguments: ParsedArguments) throws
    -> BlockingThreadPool.Priority
  {
    switch arguments.value("writer-priority") {
    case nil, "normal": return .normal
    case "background": return .background
    case "idle": return .idle
    case let other?:
      throw UsageError("--writer-priority must be normal, background or idle, not '\(other)'")
    }
  }

  private static func retention(from arguments: ParsedArguments) throws -> RetentionPolicy {
    let given = GCCommand.valueOptions.contains { arguments.value($0) != nil }
    guard given else {
      return RetentionPolicy(keepLast: 3, bestBy: MetricObjective(metric: "val/loss", mode: .min))
    }
    return try GCCommand.policy(from: arguments)
  }

  static func progressLine(_ progress: DemoProgress) -> String {
    let validation = progress.validationLoss.map { String(format: "%.3f", $0) } ?? "-"
    var checkpoint = "checkpoints \(progress.committedCheckpoints)"
    if progress.isWritingCheckpoint, let step = progress.lastSavedStep {
      checkpoint += ", writing step \(step)"
    }
    let loss = String(format: "%.3f", progress.trainLoss)
    let speed = String(format: "%.0f", progress.stepsPerSecond)
    return
      "step \(progress.step)/\(progress.totalSteps)  loss \(loss)  val \(validation)  \(speed) steps/s  \(checkpoint)"
  }

  private static func printSummary(_ summary: DemoSummary, console: Console) {
    let milliseconds = { (seconds: Double) in String(format: "%.2f ms", seconds * 1000) }
    let status = summary.isComplete ? "completed" : "interrupted"
    console.print("run             \(summary.runDirectory) (\(status))")
    if let resumed = summary.resumedFromStep {
      console.print("resumed from    step \(resumed)")
    }
    console.print(
      "steps           \(summary.finalStep), \(String(format: "%.1f", summary.stepsPerSecond)) steps/s over \(String(format: "%.1f", summary.trainingSeconds)) s"
    )
    console.print(
      "loss            train \(String(format: "%.4f", summary.finalTrainLoss)) (mean of the last 50 steps), validation \(String(format: "%.4f", summary.finalValidationLoss)) (uniform guess ln(\(summary.vocabularySize)) = \(String(format: "%.4f", summary.uniformLoss)))"
    )
    console.print(
      "checkpoints     \(summary.checkpointsWritten) written (\(ByteCountText.format(summary.committedRawByteCount)) raw, \(ByteCountText.format(summary.committedStoredByteCount)) stored), \(summary.checkpointsFailed) failed; state \(ByteCountText.format(Int64(summary.stateByteCount)))"
    )
    console.print(
      "save held loop  median \(milliseconds(summary.saveStallMedianSeconds)), max \(milliseconds(summary.saveStallMaxSeconds))"
    )
    console.print(
      "background write median \(milliseconds(summary.writeMedianSeconds)), max \(milliseconds(summary.writeMaxSeconds)) to a durable commit"
    )
    if summary.isComplete {
      console.print("next            swift run waymark verify \(summary.runDirectory)")
    } else {
      console.print("next            swift run waymark demo --resume \(summary.runDirectory)")
    }
  }
}
