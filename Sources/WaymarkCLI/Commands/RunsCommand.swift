import Foundation
import WaymarkTracking

/// `waymark runs [DIR]`: lists runs with status, steps, duration and a best metric.
enum RunsCommand: Command {
  static let name = "runs"
  static let summary = "List runs with status (crashed included), steps, duration and best metric"
  static let help = """
    Usage: waymark runs [DIR] [--experiment NAME] [--metric NAME] [--max] [--json]

    Lists the runs under DIR (default: runs), oldest first. A run recorded as running whose
    heartbeat is older than 30 seconds, or whose process is gone on this host, is shown as
    crashed.

    Options:
      --experiment NAME   Only runs of this experiment.
      --metric NAME       Show the best value of this metric for each run (default:
                          val/loss when runs log it).
      --max               Larger values of --metric are better (default: smaller).
      --json              Print the list as JSON.
      --help              Show this help.
    """
  static let valueOptions: Set<String> = ["experiment", "metric"]
  static let flagOptions: Set<String> = ["json", "max"]

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    guard arguments.positionals.count <= 1 else {
      throw UsageError("unexpected argument '\(arguments.positionals[1])'; see --help")
    }
    let directory = arguments.positionals.first ?? "runs"
    let list = try RunReader.listRuns(
      in: directory, experiment: arguments.value("experiment"),
      bestOf: arguments.value("metric") ?? "val/loss",
      goal: arguments.flag("max") ? .maximize : .minimize)
    if arguments.flag("json") {
      try console.printJSON(list)
    } else {
      console.print(list.renderText())
    }
    return .success
  }
}
