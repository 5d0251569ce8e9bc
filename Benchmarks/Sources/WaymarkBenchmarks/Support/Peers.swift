import Foundation
import WaymarkCheckpoint

#if canImport(Glibc)
  import Glibc
#endif

/// The measurements of one peer on one workload, or why the peer is missing.
struct PeerResult: Sendable {
  var saveSeconds: Double = .nan
  var loadSeconds: Double = .nan
  var coldLoadSeconds: Double = .nan
  var byteCount: Int = 0
  var missingReason: String?

  static func missing(_ reason: String) -> PeerResult {
    PeerResult(missingReason: reason)
  }
}

/// The tools Waymark is compared against, run on the same bytes in the same process run.
enum Peers {
  /// Writes every tensor's raw bytes into one file at `path` with `pwrite` and fsyncs it: the
  /// plainest durable write of the state, so its throughput is the disk's limit. Also writes
  /// `path.json`, the index the Python peers read. Returns the seconds of write plus fsync.
  static func writeRawDurably(_ state: TrainingState, to path: String) throws -> Double {
    let names = state.tensors.keys.sorted()
    var offset = 0
    var entries: [[String: Any]] = []
    for name in names {
      let tensor = state.tensors[name]!
      entries.append([
        "name": name, "dtype": tensor.dtype.rawValue, "offset": offset,
        "byteCount": tensor.byteCount,
      ])
      offset += tensor.byteCount
    }
    let index: [String: Any] = ["rawPath": path, "tensors": entries]
    try JSONSerialization.data(withJSONObject: index).write(
      to: URL(fileURLWithPath: path + ".json"))

    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw BenchmarkError("cannot create '\(path)'") }
    defer { close(descriptor) }
    return try secondsElapsed {
      var position = 0
      for name in names {
        try state.tensors[name]!.withUnsafeBytes { bytes in
          var written = 0
          while written < bytes.count {
            let count = pwrite(
              descriptor, bytes.baseAddress! + written, bytes.count - written,
              off_t(position + written))
            guard count > 0 else { throw BenchmarkError("pwrite to '\(path)' failed") }
            written += count
          }
        }
        position += state.tensors[name]!.byteCount
      }
      guard fsync(descriptor) == 0 else { throw BenchmarkError("fsync of '\(path)' failed") }
    }
  }

  /// Compresses the raw file with the `zstd` command line on all cores (`-T0`) at `level`,
  /// then fsyncs the output; the time covers both.
  static func zstdCommandLine(rawPath: String, level: String) -> PeerResult {
    guard let zstd = findExecutable("zstd") else {
      return .missing("the `zstd` command is not installed")
    }
    let output = rawPath + ".zst"
    defer { try? FileManager.default.removeItem(atPath: output) }
    do {
      let seconds = try secondsElapsed {
        try runProcess(zstd, ["-q", "-f", "-T0", level, rawPath, "-o", output])
        try BenchmarkFiles.synchronize(output)
      }
      let attributes = try FileManager.default.attributesOfItem(atPath: output)
      return PeerResult(saveSeconds: seconds, byteCount: attributes[.size] as? Int ?? 0)
    } catch {
      return .missing("zstd failed: \(error)")
    }
  }

  /// Runs `Benchmarks/peers/peer.py` in the `Benchmarks/.venv` virtual environment on the
  /// raw file's index, `repeats` times each. Returns the medians by peer name, or every peer
  /// as missing with the reason.
  static func python(rawPath: String, workDirectory: String, repeats: Int) -> [String: PeerResult] {
    let names = ["safetensors", "numpy.savez"]
    let python = packageRoot + "/Benchmarks/.venv/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
      let reason = "no virtual environment at Benchmarks/.venv; run Benchmarks/peers/setup.sh"
      return Dictionary(uniqueKeysWithValues: names.map { ($0, PeerResult.missing(reason)) })
    }
    do {
      let output = try runProcess(
        python,
        [packageRoot + "/Benchmarks/peers/peer.py", rawPath + ".json", workDirectory, "\(repeats)"])
      guard
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
      else { throw BenchmarkError("peer.py printed no JSON object") }
      var results: [String: PeerResult] = [:]
      for name in names {
        guard let fields = object[name] as? [String: Any] else {
          results[name] = .missing("peer.py returned nothing for \(name)")
          continue
        }
        if let reason = fields["missing"] as? String {
          results[name] = .missing(reason)
          continue
        }
        results[name] = PeerResult(
          saveSeconds: fields["saveSeconds"] as? Double ?? .nan,
          loadSeconds: fields["loadSeconds"] as? Double ?? .nan,
          coldLoadSeconds: fields["coldLoadSeconds"] as? Double ?? .nan,
          byteCount: fields["byteCount"] as? Int ?? 0)
      }
      if let versions = object["versions"] as? [String: String] { pythonVersions = versions }
      return results
    } catch {
      let reason = "peer.py failed: \(error)"
      return Dictionary(uniqueKeysWithValues: names.map { ($0, PeerResult.missing(reason)) })
    }
  }

  /// Versions of the Python peers from the last successful run.
  nonisolated(unsafe) static var pythonVersions: [String: String] = [:]

  /// The package root, found from the current directory upwards by `Package.swift`.
  static let packageRoot: String = {
    var directory = FileManager.default.currentDirectoryPath
    while directory != "/" {
      if FileManager.default.fileExists(atPath: directory + "/Package.swift") { return directory }
      directory = (directory as NSString).deletingLastPathComponent
    }
    return FileManager.default.currentDirectoryPath
  }()

  static func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }
      .first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Runs `executable` and returns its standard output; throws when it exits non-zero.
  @discardableResult
  static func runProcess(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let message = String(decoding: errorData, as: UTF8.self).suffix(500)
      throw BenchmarkError("\(executable) exited with \(process.terminationStatus): \(message)")
    }
    return String(decoding: outputData, as: UTF8.self)
  }
}
