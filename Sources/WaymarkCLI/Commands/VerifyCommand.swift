import Foundation
import WaymarkCheckpoint

/// `waymark verify PATH`: checks every byte of a checkpoint, a store or a run.
enum VerifyCommand: Command {
  static let name = "verify"
  static let summary = "Check a checkpoint, a checkpoint store or a run directory for damage"
  static let help = """
    Usage: waymark verify PATH [--json]

    Reads every manifest and every chunk under PATH and checks each checksum and each
    decoded length. PATH is a checkpoint directory, a checkpoint store (a directory of
    step-… checkpoints) or a run directory (its checkpoints/ folder is checked).

    Options:
      --json    Print the report as JSON: a top-level boolean "ok", and for every problem
                the checkpoint, tensor, chunk, code and message.
      --help    Show this help.

    Exit status: 0 when everything is intact, 1 when anything is damaged (each damaged
    checkpoint, tensor and chunk is named) or no checkpoint was found, 2 for a usage error
    or a missing path.
    """
  static let valueOptions: Set<String> = []
  static let flagOptions: Set<String> = ["json"]

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    let path = try arguments.requirePositionals(["PATH"])[0]
    let report = try await CheckpointVerifier().verify(path: path) { done, total in
      console.progress("verifying checkpoint \(done) of \(total)")
    }
    console.clearProgress()

    if arguments.flag("json") {
      try console.printJSON(report)
    } else {
      printText(report, console: console)
    }
    if report.checkpoints.isEmpty {
      console.error(
        "no checkpoints found under \(path); pass a checkpoint, a checkpoint store or a run directory (see 'waymark runs')"
      )
      return .problemsFound
    }
    return report.ok ? .success : .problemsFound
  }

  private static func printText(_ report: VerificationReport, console: Console) {
    if report.checkpoints.isEmpty {
      console.print("no checkpoints found under \(report.path)")
    }
    for checkpoint in report.checkpoints {
      let step = checkpoint.step.map { "step \($0)" } ?? "unreadable"
      if checkpoint.isIntact {
        let size = ByteCountText.format(checkpoint.rawByteCount)
        console.print(
          "\(console.styled("ok", code: "32"))       \(checkpoint.path) (\(step), \(checkpoint.tensorCount) tensors, \(checkpoint.chunkCount) chunks\(checkpoint.packCount == 0 ? "" : checkpoint.packCount == 1 ? ", 1 pack" : ", \(checkpoint.packCount) packs"), \(size))"
        )
      } else {
        console.print("\(console.styled("DAMAGED", code: "31"))  \(checkpoint.path) (\(step))")
        for problem in checkpoint.problems {
          var location: [String] = []
          if let tensor = problem.tensor { location.append("tensor '\(tensor)'") }
          if let chunk = problem.chunk { location.append("chunk \(chunk)") }
          let prefix = location.isEmpty ? "" : location.joined(separator: ", ") + ": "
          let message =
            problem.message.hasPrefix("tensor '") ? problem.message : prefix + problem.message
          console.print("         [\(problem.code)] \(message)")
        }
      }
    }
    let damaged = report.checkpoints.filter { !$0.isIntact }.count
    console.print(
      report.ok
        ? "\(report.checkpoints.count) checkpoint(s) intact"
        : "\(damaged) of \(report.checkpoints.count) checkpoint(s) damaged")
  }
}
