import Foundation
import WaymarkCheckpoint
import WaymarkSafetensors

/// `waymark export CHECKPOINT OUT.safetensors`: writes a checkpoint's tensors as safetensors.
enum ExportCommand: Command {
  static let name = "export"
  static let summary = "Write a checkpoint's tensors to a .safetensors file"
  static let help = """
    Usage: waymark export CHECKPOINT OUT.safetensors [--tensor NAME]... [--force] [--json]

    Loads the checkpoint (checking every chunk checksum) and writes its tensors to a new
    safetensors file, atomically and fsynced. The step and the non-tensor state go into
    __metadata__ as the strings waymark.step and waymark.extra_state (JSON text). bf16,
    f16 and every integer dtype are written bit for bit.

    Options:
      --tensor NAME   Export only this tensor; repeat for several (default: all).
      --force         Replace OUT.safetensors if it exists (default: refuse).
      --json          Print a summary of the written file as JSON.
      --help          Show this help.
    """
  static let valueOptions: Set<String> = ["tensor"]
  static let flagOptions: Set<String> = ["force", "json"]

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    let paths = try arguments.requirePositionals(["CHECKPOINT", "OUT.safetensors"])
    let names = arguments.allValues("tensor")
    if FileManager.default.fileExists(atPath: paths[1]), !arguments.flag("force") {
      throw UsageError(
        "'\(paths[1])' already exists; choose another path, or pass --force to replace it")
    }
    let summary = try await SafetensorsConversion.exportCheckpoint(
      at: paths[0], to: paths[1], tensorNames: names.isEmpty ? nil : names,
      replacingExisting: arguments.flag("force"))
    if arguments.flag("json") {
      try console.printJSON(summary)
    } else {
      console.print(
        "wrote \(summary.tensors.count) tensor(s), \(ByteCountText.format(Int64(summary.fileByteCount))), to \(summary.path)"
      )
    }
    return .success
  }
}
