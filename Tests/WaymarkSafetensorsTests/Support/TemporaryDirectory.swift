import Foundation
import Testing

/// Creates a fresh temporary directory, runs `body` with its path, and removes the directory
/// and everything in it afterwards.
func withTemporaryDirectory<Result>(
  sourceLocation: SourceLocation = #_sourceLocation, _ body: (String) throws -> Result
) throws -> Result {
  let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("waymark-safetensors-\(UUID().uuidString)").path
  do {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  } catch {
    Issue.record(error, "could not create a temporary directory", sourceLocation: sourceLocation)
    throw error
  }
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try body(path)
}

/// Creates a fresh temporary directory, runs the asynchronous `body` with its path, and
/// removes the directory and everything in it afterwards.
func withTemporaryDirectory<Result>(
  sourceLocation: SourceLocation = #_sourceLocation, _ body: (String) async throws -> Result
) async throws -> Result {
  let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("waymark-safetensors-\(UUID().uuidString)").path
  do {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  } catch {
    Issue.record(error, "could not create a temporary directory", sourceLocation: sourceLocation)
    throw error
  }
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try await body(path)
}

/// Writes `bytes` to a new file at `path`.
func writeFile(_ bytes: [UInt8], to path: String) throws {
  try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Returns the bytes of the file at `path`.
func readFile(at path: String) throws -> [UInt8] {
  Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}
