import Foundation
import WaymarkTracking

/// `waymark show RUN`: prints one run's config, metadata, metrics, checkpoints and profile.
enum ShowCommand: Command {
  static let name = "show"
  static let summary = "Show a run's config, metadata, metric summaries, checkpoints and profile"
  static let help = """
    Usage: waymark show RUN [--runs DIR] [--json]

    RUN is a run directory, or a run id looked up under --runs. Prints the run's status,
    config and its hash, environment and git metadata, a summary of every metric (count,
    min, max, mean, last), its checkpoints and the profile of Waymark's own operations.

    Options:
      --runs DIR   Directory to search for a run id (default: runs).
      --json       Print the details as JSON.
      --help       Show this help.
    """
  static let valueOptions: Set<String> = ["runs"]
  static let flagOptions: Set<String> = ["json"]

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    let argument = try arguments.requirePositionals(["RUN"])[0]
    let directory = try RunLocation.resolve(
      argument, runsDirectory: arguments.value("runs") ?? "runs")
    let details = try RunReader.details(ofRunAt: directory)
    if arguments.flag("json") {
      try console.printJSON(details)
    } else {
      console.print(details.renderText())
    }
    return .success
  }
}
