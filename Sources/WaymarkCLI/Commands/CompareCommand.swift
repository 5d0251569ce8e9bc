import Foundation
import WaymarkTracking

/// `waymark compare RUN RUN...`: config differences and final and best metrics side by side.
enum CompareCommand: Command {
  static let name = "compare"
  static let summary = "Compare runs: config differences, final and best metrics side by side"
  static let help = """
    Usage: waymark compare RUN RUN... [--runs DIR] [--max METRIC]... [--json]

    Each RUN is a run directory, or a run id looked up under --runs. Prints every config
    value that differs between the runs, by JSON path, and each metric's final and best
    value per run.

    Options:
      --runs DIR     Directory to search for run ids (default: runs).
      --max METRIC   Larger values of METRIC are better; repeat for several metrics
                     (default: smaller is better).
      --json         Print the comparison as JSON.
      --help         Show this help.
    """
  static let valueOptions: Set<String> = ["runs", "max"]
  static let flagOptions: Set<String> = ["json"]

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    guard arguments.positionals.count >= 2 else {
      throw UsageError("compare needs at least two runs; see --help")
    }
    let runsDirectory = arguments.value("runs") ?? "runs"
    let directories = try arguments.positionals.map {
      try RunLocation.resolve($0, runsDirectory: runsDirectory)
    }
    let comparison = try RunReader.compare(
      runsAt: directories, maximizing: Set(arguments.allValues("max")))
    if arguments.flag("json") {
      try console.printJSON(comparison)
    } else {
      console.print(comparison.renderText())
    }
    return .success
  }
}
