import Foundation
import WaymarkCheckpoint
import WaymarkCore
import WaymarkSafetensors

/// `waymark inspect CHECKPOINT`: shows what a checkpoint holds.
enum InspectCommand: Command {
  static let name = "inspect"
  static let summary = "Show a checkpoint's step, metrics, non-tensor state and tensors"
  static let help = """
    Usage: waymark inspect CHECKPOINT|FILE.safetensors [--json]

    Prints the step, save time, metrics, non-tensor state and every tensor (dtype, shape,
    raw and stored bytes, chunk count, or the pack that holds it) of a checkpoint
    directory. A packed tensor's stored bytes are its share of the pack's. Only the manifest is
    read; run 'waymark verify' to check the data. For a .safetensors file, prints its
    metadata and tensors after checking the header strictly.

    Options:
      --json    Print the manifest summary as JSON.
      --help    Show this help.
    """
  static let valueOptions: Set<String> = []
  static let flagOptions: Set<String> = ["json"]

  struct TensorSummary: Encodable {
    var name: String
    var dtype: String
    var shape: [Int]
    var rawByteCount: Int64
    var storedByteCount: Int64
    var chunkCount: Int
    var codecs: [String]
    /// Index of the pack holding the tensor, when it is packed with other small tensors.
    var pack: Int?
  }

  struct Summary: Encodable {
    var path: String
    var formatVersion: Int
    var step: Int64
    var wallTime: Double
    var savedAt: String
    var metrics: [String: Double]
    var extraState: JSONValue
    var rawByteCount: Int64
    var storedByteCount: Int64
    var tensors: [TensorSummary]
  }

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    let path = try arguments.requirePositionals(["CHECKPOINT"])[0]
    if path.hasSuffix(".safetensors") {
      return try inspectSafetensors(at: path, arguments: arguments, console: console)
    }
    let manifest = try await CheckpointReader().manifest(ofCheckpointAt: path)
    let summary = makeSummary(manifest, path: path)
    if arguments.flag("json") {
      try console.printJSON(summary)
    } else {
      printText(summary, console: console)
    }
    return .success
  }

  private static func inspectSafetensors(
    at path: String, arguments: ParsedArguments, console: Console
  ) throws
    -> ExitStatus
  {
    guard FileManager.default.fileExists(atPath: path) else {
      throw UsageError(
        "'\(path)' does not exist; pass a checkpoint directory or a .safetensors file")
    }
    let summary = try SafetensorsSummary(inspectingFileAt: path)
    if arguments.flag("json") {
      try console.printJSON(summary)
      return .success
    }
    console.print("safetensors \(summary.path)")
    console.print(
      "size        \(ByteCountText.format(Int64(summary.fileByteCount))) (header \(summary.headerByteCount) bytes)"
    )
    for (key, value) in summary.metadata.sorted(by: { $0.key < $1.key }) {
      console.print(
        "metadata    \(key) = \(value.count > 120 ? String(value.prefix(117)) + "..." : value)")
    }
    console.print("tensors     \(summary.tensors.count)")
    for tensor in summary.tensors {
      let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
      console.print(
        "  \(tensor.name)  \(tensor.safetensorsDType)  \(shape)  \(ByteCountText.format(Int64(tensor.byteCount)))"
      )
    }
    return .success
  }

  static func makeSummary(_ manifest: Manifest, path: String) -> Summary {
    let tensors = manifest.tensors.map { tensor in
      var summary = TensorSummary(
        name: tensor.name, dtype: tensor.dtype.rawValue, shape: tensor.shape,
        rawByteCount: tensor.byteCount,
        storedByteCount: tensor.storedByteCount, chunkCount: tensor.chunks.count,
        codecs: Array(Set(tensor.chunks.map(\.codec.rawValue))).sorted())
      if let location = tensor.pack {
        let pack = manifest.packs[location.index]
        summary.pack = location.index
        summary.codecs = [pack.codec.rawValue]
        summary.storedByteCount = Int64(
          (Double(pack.storedByteCount) * Double(tensor.byteCount) / Double(pack.rawByteCount))
            .rounded())
      }
      return summary
    }
    let savedAt = ISO8601DateFormatter().string(
      from: Date(timeIntervalSince1970: manifest.wallTime))
    return Summary(
      path: path, formatVersion: manifest.formatVersion, step: manifest.step,
      wallTime: manifest.wallTime, savedAt: savedAt,
      metrics: manifest.metrics,
      extraState: manifest.extraState, rawByteCount: manifest.rawByteCount,
      storedByteCount: manifest.storedByteCount, tensors: tensors)
  }

  private static func printText(_ summary: Summary, console: Console) {
    console.print("checkpoint  \(summary.path)")
    console.print("step        \(summary.step)")
    console.print("format      version \(summary.formatVersion)")
    console.print("saved at    \(summary.savedAt)")
    let ratio =
      summary.rawByteCount > 0 ? Double(summary.storedByteCount) / Double(summary.rawByteCount) : 1
    console.print(
      "size        \(ByteCountText.format(summary.rawByteCount)) raw, \(ByteCountText.format(summary.storedByteCount)) stored (\(String(format: "%.3f", ratio)) of raw)"
    )
    if summary.metrics.isEmpty {
      console.print("metrics     none")
    } else {
      let metrics = summary.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
      console.print("metrics     " + metrics.joined(separator: " "))
    }
    if summary.extraState != .null,
      let data = try? JSONCoding.encoder(pretty: true).encode(summary.extraState)
    {
      console.print("extra state")
      for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        console.print("  " + line)
      }
    }
    console.print("tensors     \(summary.tensors.count)")
    let nameWidth = min(48, summary.tensors.map(\.name.count).max() ?? 4)
    console.print(
      "  " + "name".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
        + "  dtype  shape                raw         stored      chunks")
    for tensor in summary.tensors {
      let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
      console.print(
        "  " + tensor.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
          + tensor.dtype.padding(toLength: 5, withPad: " ", startingAt: 0) + "  "
          + shape.padding(toLength: 19, withPad: " ", startingAt: 0) + "  "
          + ByteCountText.format(tensor.rawByteCount).padding(
            toLength: 10, withPad: " ", startingAt: 0) + "  "
          + ByteCountText.format(tensor.storedByteCount).padding(
            toLength: 10, withPad: " ", startingAt: 0) + "  "
          + (tensor.pack.map { "pack \($0)" } ?? String(tensor.chunkCount)))
    }
  }
}
