/// Exit statuses of the `waymark` command.
enum ExitStatus: Int32 {
  /// Success.
  case success = 0
  /// A check found problems, or the command failed.
  case problemsFound = 1
  /// A usage error or a missing input.
  case usage = 2
  /// The command was stopped by Ctrl-C or SIGTERM after saving its state.
  case interrupted = 130
}

/// One subcommand of `waymark`.
protocol Command: Sendable {
  /// Name typed after `waymark`.
  static var name: String { get }
  /// One line for the command list.
  static var summary: String { get }
  /// Full help text: usage line, description and every option.
  static var help: String { get }
  /// Options that take a value, without the leading dashes.
  static var valueOptions: Set<String> { get }
  /// Options without a value, without the leading dashes; `help` is added for every command.
  static var flagOptions: Set<String> { get }

  /// Runs the command with its parsed arguments.
  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus
}
