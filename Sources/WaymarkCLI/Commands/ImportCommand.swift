import Foundation
import WaymarkCheckpoint
import WaymarkSafetensors

/// `waymark import FILE.safetensors STORE --step N`: saves a safetensors file as a checkpoint.
enum ImportCommand: Command {
  static let name = "import"
  static let summary = "Save a .safetensors file as a new checkpoint in a store or run"
  static let help = """
    Usage: waymark import FILE.safetensors STORE_OR_RUN --step N [--json]

    Reads the safetensors file strictly (header bounds, dtypes, offsets, shapes, names) and
    commits its tensors as the checkpoint of step N through the normal engine, with the
    store's write lock held. The non-tensor state comes from the waymark.extra_state
    metadata when present, otherwise from the other metadata strings. An existing
    checkpoint of step N is never overwritten.

    Options:
      --step N   Step of the new checkpoint (required).
      --json     Print the committed checkpoint as JSON.
      --help     Show this help.
    """
  static let valueOptions: Set<String> = ["step"]
  static let flagOptions: Set<String> = ["json"]

  struct Result: Encodable {
    var step: Int64
    var path: String
    var rawByteCount: Int64
    var storedByteCount: Int64
  }

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    let paths = try arguments.requirePositionals(["FILE.safetensors", "STORE_OR_RUN"])
    guard let step = try arguments.integer("step", default: nil, in: Int64(0)...Int64.max) else {
      throw UsageError("--step N is required: the step to save the imported tensors as")
    }
    guard FileManager.default.fileExists(atPath: paths[0]) else {
      throw UsageError("'\(paths[0])' does not exist; pass a .safetensors file")
    }
    let store =
      FileManager.default.fileExists(atPath: paths[1] + "/run.json")
      ? paths[1] + "/checkpoints" : paths[1]
    let manager = try await CheckpointManager(directory: store)
    let committed: CommittedCheckpoint
    do {
      committed = try await SafetensorsConversion.importFile(
        at: paths[0], into: manager, step: step)
    } catch {
      try? await manager.close()
      throw error
    }
    try await manager.close()

    let result = Result(
      step: committed.step, path: committed.path, rawByteCount: committed.rawByteCount,
      storedByteCount: committed.storedByteCount)
    if arguments.flag("json") {
      try console.printJSON(result)
    } else {
      console.print(
        "committed step \(result.step) at \(result.path) (\(ByteCountText.format(result.rawByteCount)) raw, \(ByteCountText.format(result.storedByteCount)) stored)"
      )
    }
    return .success
  }
}
