import Foundation
import WaymarkCheckpoint
import WaymarkCore

/// `waymark gc STORE_OR_RUN`: applies retention rules to a store once.
enum GCCommand: Command {
  static let name = "gc"
  static let summary = "Delete the checkpoints that no retention rule keeps"
  static let help = """
    Usage: waymark gc STORE_OR_RUN [--keep-last N] [--keep-best K --metric NAME]
                      [--mode min|max] [--min-improvement X] [--keep-every M]
                      [--keep-one-per DURATION] [--dry-run] [--json]

    Applies retention rules to STORE_OR_RUN, a checkpoint store or a run directory (its
    checkpoints/ folder is used), and prints what it keeps and deletes and why. A checkpoint
    is kept when any rule keeps it. The newest checkpoint and the best one by --metric are
    always kept. Give at least one --keep-… rule.

    gc takes the store's write lock, so it fails while a training process writes to the
    store; a lock left by a process that died is taken over. It first removes leftovers of
    interrupted saves and deletions. Each deletion renames the checkpoint to a hidden
    .trash-… name, fsyncs the store directory, then removes the files, so a crash never
    leaves a partial checkpoint that looks valid.

    Options:
      --keep-last N            Keep the newest N checkpoints by step.
      --keep-best K            Keep the best K checkpoints by --metric.
      --metric NAME            Metric that ranks checkpoints; --keep-best needs it. Given
                               alone, it only protects the best checkpoint. Checkpoints
                               without a finite value are judged by the other rules only.
      --mode MODE              min (the default) or max: whether smaller or larger values
                               of --metric are better.
      --min-improvement X      Smallest change of --metric that makes a later checkpoint
                               rank above an earlier one; default 0. Ties go to the
                               earlier step.
      --keep-every M           Keep every checkpoint whose step is a multiple of M.
      --keep-one-per DURATION  Keep the first checkpoint of each interval of wall time,
                               such as 90s, 30m, 6h or 1d; a plain number is seconds.
      --dry-run                Print the decisions without deleting; takes no lock.
      --json                   Print the decisions as JSON.
      --help                   Show this help.

    Exit status: 0 on success, also when nothing is deleted; 1 when the store is locked or
    a deletion fails; 2 for a usage error or a missing store.
    """
  static let valueOptions: Set<String> = [
    "keep-last", "keep-best", "metric", "mode", "min-improvement", "keep-every", "keep-one-per",
  ]
  static let flagOptions: Set<String> = ["dry-run", "json"]

  struct ReasonJSON: Encodable {
    var code: String
    var message: String
  }

  struct DecisionJSON: Encodable {
    var step: Int64
    var path: String
    var action: String
    var reasons: [ReasonJSON]
  }

  struct OwnerJSON: Encodable {
    var pid: Int32
    var host: String
  }

  struct ReportJSON: Encodable {
    var store: String
    var dryRun: Bool
    var policy: RetentionPolicy
    var policyDescription: String
    var newestStep: Int64?
    var bestStep: Int64?
    var keep: [Int64]
    var delete: [Int64]
    var deletedSteps: [Int64]
    var decisions: [DecisionJSON]
    var leftoversRemoved: [String]
    var lockTakenOverFrom: OwnerJSON?
  }

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    let path = try arguments.requirePositionals(["STORE_OR_RUN"])[0]
    let policy = try policy(from: arguments)
    let store = try StoreArgument.resolve(path)
    let dryRun = arguments.flag("dry-run")

    let report: RetentionReport
    do {
      report = try await CheckpointStore(directory: store).applyRetention(policy, dryRun: dryRun)
    } catch let error as CheckpointError where error.code == .storeLocked {
      console.error(
        "\(error.message). gc deletes checkpoints, so it needs that lock; run it after the training process ends, or pass --dry-run to see the plan without the lock"
      )
      return .problemsFound
    }

    if arguments.flag("json") {
      try console.printJSON(makeJSON(report))
    } else {
      printText(report, console: console)
    }
    return .success
  }

  /// Builds the policy from the options, rejecting combinations that cannot work.
  static func policy(from arguments: ParsedArguments) throws -> RetentionPolicy {
    let keepLast = try arguments.integer("keep-last", default: nil, in: 1...Int.max)
    let keepBest = try arguments.integer("keep-best", default: nil, in: 1...Int.max)
    let keepEvery = try arguments.integer("keep-every", default: nil, in: Int64(1)...Int64.max)
    let mode = try MetricModeArgument.parse(arguments.value("mode"))
    let minimumImprovement = try arguments.number("min-improvement", default: nil)
    let interval = try arguments.value("keep-one-per").map(parseDuration)
    let metric = arguments.value("metric")

    if let metric, metric.isEmpty {
      throw UsageError("--metric needs a metric name, such as --metric loss")
    }
    if let keepBest, metric == nil {
      throw UsageError(
        "--keep-best \(keepBest) needs --metric NAME to rank checkpoints by, such as --metric loss")
    }
    if metric == nil, let mode {
      throw UsageError("--mode \(mode.rawValue) applies to --metric; add --metric NAME")
    }
    if metric == nil, minimumImprovement != nil {
      throw UsageError("--min-improvement applies to --metric; add --metric NAME")
    }
    if let minimumImprovement, minimumImprovement < 0 {
      throw UsageError("--min-improvement must be 0 or more, not \(minimumImprovement)")
    }
    guard keepLast != nil || keepBest != nil || keepEvery != nil || interval != nil else {
      throw UsageError(
        "no retention rule given; pass --keep-last, --keep-best, --keep-every or --keep-one-per (gc without a rule would keep everything)"
      )
    }
    let objective = metric.map {
      MetricObjective(metric: $0, mode: mode ?? .min, minimumImprovement: minimumImprovement ?? 0)
    }
    let policy = RetentionPolicy(
      keepLast: keepLast, keepBest: keepBest, bestBy: objective, keepEvery: keepEvery,
      keepOnePerIntervalSeconds: interval)
    do {
      try policy.validate()
    } catch let error as CheckpointError {
      throw UsageError(error.message)
    }
    return policy
  }

  /// Parses `90s`, `30m`, `6h`, `1d` or a plain number of seconds.
  static func parseDuration(_ text: String) throws -> Double {
    let units: [(suffix: String, seconds: Double)] = [
      ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1),
    ]
    var number = text
    var scale = 1.0
    if let unit = units.first(where: { text.hasSuffix($0.suffix) }) {
      number = String(text.dropLast(unit.suffix.count))
      scale = unit.seconds
    }
    guard let value = Double(number), value.isFinite, value > 0 else {
      throw UsageError(
        "--keep-one-per must be a positive duration such as 90s, 30m, 6h or 1d, not '\(text)'")
    }
    return value * scale
  }

  static func makeJSON(_ report: RetentionReport) -> ReportJSON {
    ReportJSON(
      store: report.directory, dryRun: report.isDryRun, policy: report.policy,
      policyDescription: report.policy.description, newestStep: report.plan.newestStep,
      bestStep: report.plan.bestStep, keep: report.plan.kept.map(\.step),
      delete: report.plan.deleted.map(\.step), deletedSteps: report.deletedSteps,
      decisions: report.plan.decisions.map { decision in
        DecisionJSON(
          step: decision.step, path: decision.path, action: decision.action.rawValue,
          reasons: decision.reasons.map { ReasonJSON(code: $0.code, message: $0.description) })
      },
      leftoversRemoved: report.leftoversRemoved,
      lockTakenOverFrom: report.lockTakenOverFrom.map { OwnerJSON(pid: $0.pid, host: $0.host) })
  }

  private static func printText(_ report: RetentionReport, console: Console) {
    if let owner = report.lockTakenOverFrom {
      console.note(
        "took over the store lock left by pid \(owner.pid) on host \(owner.host), which is gone")
    }
    if !report.leftoversRemoved.isEmpty {
      console.note(
        "removed leftovers of interrupted saves: " + report.leftoversRemoved.joined(separator: ", ")
      )
    }
    console.print("store   \(report.directory)")
    console.print("policy  \(report.policy.description)")
    let stepWidth = max(4, report.plan.decisions.map { String($0.step).count }.max() ?? 4)
    for decision in report.plan.decisions {
      let action =
        decision.isKept
        ? console.styled("keep  ", code: "32")
        : console.styled("delete", code: "31")
      let step = String(decision.step)
      let padded = String(repeating: " ", count: max(0, stepWidth - step.count)) + step
      console.print("\(action)  step \(padded)  \(decision.reasonText)")
    }
    let kept = report.plan.kept.count
    if report.isDryRun {
      console.print(
        "dry run: \(kept) kept, \(report.plan.deleted.count) would be deleted; nothing was deleted")
    } else {
      console.print("\(kept) kept, \(report.deletedSteps.count) deleted")
    }
  }
}
