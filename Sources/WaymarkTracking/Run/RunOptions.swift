public import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Settings of a run that are not part of its identity: intervals, snapshot, profiler,
/// logger and file system.
public struct RunOptions: Sendable {
  /// Seconds between background flushes of metrics and events; 1 by default. A crash
  /// loses at most about this much logging.
  public var flushIntervalSeconds: Double = 1
  /// Seconds between heartbeats; 5 by default. Keep it well below
  /// ``LivenessRule/staleAfterSeconds`` (30 by default).
  public var heartbeatIntervalSeconds: Double = 5
  /// Source and cap of the snapshot in `code/`. By default, the git-tracked files of the working directory.
  /// A resumed run takes no new snapshot.
  public var codeSnapshot: CodeSnapshotOptions
  /// Whether to write TensorBoard event files under `tensorboard/`; `true` by default.
  public var writesTensorBoard = true
  /// Whether to run the slow environment probes (`git`, `swift --version`) in the
  /// background; `true` by default.
  public var probesSlowEnvironment = true
  /// Directory whose `Package.resolved` and git checkout are recorded; the process's
  /// working directory by default.
  public var workingDirectory: String
  /// Steps between metric logs, recorded in `run.json` for readers.
  public var metricIntervalSteps: Int?
  /// Steps between checkpoints, recorded in `run.json` for readers.
  public var checkpointIntervalSteps: Int?
  /// Profiler the run records its spans into; a new one when `nil`. Pass the checkpoint
  /// engine's profiler here, or pass the run's ``Run/profiler`` to the engine, to get one
  /// trace of both.
  public var profiler: Profiler?
  /// One `log` call in this many records a `tracking.log.sampled` span; 64 by default, so
  /// the trace is not filled with log calls.
  public var logSpanSampleInterval = 64
  /// Logger for starts, finishes and background failures; silent by default.
  public var logger: Logger = .silent
  /// File system the run writes through; the real one by default, a failing one in tests.
  public var fileSystem: any FileSystem = PosixFileSystem()

  /// Creates options with the defaults above.
  public init() {
    let directory = currentDirectory()
    workingDirectory = directory
    codeSnapshot = CodeSnapshotOptions(source: .git(directory: directory))
  }
}

private func currentDirectory() -> String {
  var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
  guard getcwd(&buffer, buffer.count) != nil else { return "." }
  return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
