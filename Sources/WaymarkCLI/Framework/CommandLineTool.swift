import Foundation
import WaymarkCheckpoint
import WaymarkDemo
import WaymarkTracking

/// The `waymark` command: picks the subcommand, parses its options, maps errors to exit
/// statuses.
enum CommandLineTool {
  static let commands: [any Command.Type] = [
    DemoCommand.self,
    VerifyCommand.self,
    InspectCommand.self,
    ListCommand.self,
    GCCommand.self,
    RunsCommand.self,
    ShowCommand.self,
    CompareCommand.self,
    ExportCommand.self,
    ImportCommand.self,
  ]

  /// Version of the command and the library it is built from.
  static let version = "0.1.0"

  static let overview = """
    waymark: checkpoints and experiment tracking for training runs written in Swift

    Usage: waymark <command> [options]

    Commands:
    \(commands.map { "  " + $0.name.padding(toLength: 10, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

    Run 'waymark <command> --help' for a command's options, 'waymark --version' for the version.
    Exit status: 0 success, 1 a check found problems or the command failed, 2 usage error or missing input.
    """

  static func main(_ arguments: [String]) async -> Int32 {
    let console = Console()
    if arguments.first == "--version" {
      console.print("waymark \(version) (checkpoint format \(Manifest.currentFormatVersion))")
      return ExitStatus.success.rawValue
    }
    guard let name = arguments.first, name != "--help", name != "-h", name != "help" else {
      console.print(overview)
      return arguments.isEmpty ? ExitStatus.usage.rawValue : ExitStatus.success.rawValue
    }
    guard let command = commands.first(where: { $0.name == name }) else {
      console.error("unknown command '\(name)'; run 'waymark --help' for the list")
      return ExitStatus.usage.rawValue
    }
    let rest = Array(arguments.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
      console.print(command.help)
      return ExitStatus.success.rawValue
    }
    do {
      let parsed = try ParsedArguments(
        rest, valueOptions: command.valueOptions, flagOptions: command.flagOptions.union(["help"]))
      return try await command.run(parsed, console: console).rawValue
    } catch let error as UsageError {
      console.error("\(error.description)")
      return ExitStatus.usage.rawValue
    } catch let error as CheckpointError where error.code == .notFound {
      console.error("\(error)")
      return ExitStatus.usage.rawValue
    } catch let error as DemoError where error.code == .corpusNotFound {
      console.error("\(error)")
      return ExitStatus.usage.rawValue
    } catch let error as TrackingError where error.code == .notFound {
      console.error("\(error)")
      return ExitStatus.usage.rawValue
    } catch {
      console.error("\(error)")
      return ExitStatus.problemsFound.rawValue
    }
  }
}
