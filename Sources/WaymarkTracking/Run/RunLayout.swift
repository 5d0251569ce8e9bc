import Synchronization

/// Paths of the files inside a run directory `<runs>/<experiment>/<run-id>/`.
///
/// See `docs/TRACKING.md` for the format of each file.
public struct RunLayout: Sendable, Hashable {
  /// The run directory.
  public var directory: String

  /// Creates the layout of the run directory at `directory`.
  public init(directory: String) {
    self.directory = directory
  }

  /// Creates the layout of run `runID` of `experiment` under `runsDirectory`.
  public init(runsDirectory: String, experiment: String, runID: String) {
    self.directory = "\(runsDirectory)/\(experiment)/\(runID)"
  }

  /// `run.json`: the ``RunRecord``.
  public var runFile: String { directory + "/run.json" }
  /// `metrics.jsonl`: one metric record or resume marker per line.
  public var metricsFile: String { directory + "/metrics.jsonl" }
  /// `events.jsonl`: one ``RunEvent`` per line.
  public var eventsFile: String { directory + "/events.jsonl" }
  /// `summary.json`: the ``MetricSummaryFile``.
  public var summaryFile: String { directory + "/summary.json" }
  /// `heartbeat.json`: the ``Heartbeat``.
  public var heartbeatFile: String { directory + "/heartbeat.json" }
  /// `profile.json`: the ``ProfileReport``.
  public var profileFile: String { directory + "/profile.json" }
  /// `trace.json`: the profiler's spans in the Chrome trace event format.
  public var traceFile: String { directory + "/trace.json" }
  /// `tensorboard/`: TensorBoard event files.
  public var tensorBoardDirectory: String { directory + "/tensorboard" }
  /// `code/`: the code snapshot.
  public var codeDirectory: String { directory + "/code" }
  /// `checkpoints/`: where the checkpoint engine saves this run's checkpoints.
  public var checkpointsDirectory: String { directory + "/checkpoints" }

  private static let tensorBoardFileCounter = Atomic<Int>(0)

  /// Returns the path of a new TensorBoard event file, named
  /// `events.out.tfevents.<unix-seconds>.<host>.<pid>.<counter>` as TensorBoard expects.
  ///
  /// The counter has six digits and increases per file in this process, so two files opened
  /// in the same second get different names. TensorBoard reads the files of a directory in
  /// name order, which is then the order they were opened in.
  func newTensorBoardFile(wallTime: Double) -> String {
    let counter = String(Self.tensorBoardFileCounter.wrappingAdd(1, ordering: .relaxed).oldValue)
    let paddedCounter = String(repeating: "0", count: max(0, 6 - counter.count)) + counter
    let host = ProcessIdentity.hostName.replacingSlashes()
    return
      "\(tensorBoardDirectory)/events.out.tfevents.\(Int(wallTime)).\(host).\(ProcessIdentity.pid).\(paddedCounter)"
  }
}

extension String {
  fileprivate func replacingSlashes() -> String {
    String(map { $0 == "/" ? "_" : $0 })
  }
}
