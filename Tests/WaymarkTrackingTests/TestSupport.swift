import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

/// Creates a temporary directory, runs `body` with its path, and removes the directory.
func withTemporaryDirectory<T>(
  _ body: (String) async throws -> T, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> T {
  let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("waymark-tracking-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try await body(path)
}

/// Options for tests: no snapshot, no child processes, a short flush interval, and a
/// heartbeat interval long enough that a test can edit `heartbeat.json` undisturbed.
func testOptions(
  flushIntervalSeconds: Double = 0.05, heartbeatIntervalSeconds: Double = 3600,
  writesTensorBoard: Bool = true
) -> RunOptions {
  var options = RunOptions()
  options.codeSnapshot = .disabled
  options.probesSlowEnvironment = false
  options.flushIntervalSeconds = flushIntervalSeconds
  options.heartbeatIntervalSeconds = heartbeatIntervalSeconds
  options.writesTensorBoard = writesTensorBoard
  return options
}

/// Returns the lines of a text file.
func readLines(_ path: String) throws -> [String] {
  let text = try String(contentsOfFile: path, encoding: .utf8)
  return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
}

/// Appends raw bytes to a file, as a crash in the middle of a write would leave them.
func appendRaw(_ text: String, to path: String) throws {
  let handle = try #require(FileHandle(forWritingAtPath: path))
  defer { try? handle.close() }
  try handle.seekToEnd()
  try handle.write(contentsOf: Data(text.utf8))
}

/// Copies a run directory while its run is open, which leaves a copy that looks exactly like
/// the directory of a process that crashed at that moment.
func copyAsCrashed(_ run: Run, to destination: String) async throws -> String {
  try await run.flush()
  try FileManager.default.copyItem(atPath: run.directory, toPath: destination)
  return destination
}

/// Runs a program to completion and returns its exit status and standard output.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], in directory: String? = nil) throws
  -> (
    status: Int32, output: String
  )
{
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle.nullDevice
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Rewrites `heartbeat.json` of a run directory with the given fields.
func writeHeartbeat(in directory: String, pid: Int32, host: String, wallTime: Double) throws {
  let layout = RunLayout(directory: directory)
  let heartbeat = Heartbeat(runID: "test", pid: pid, host: host, wallTime: wallTime)
  try JSONCoding.encoder().encode(heartbeat).write(to: URL(fileURLWithPath: layout.heartbeatFile))
}
