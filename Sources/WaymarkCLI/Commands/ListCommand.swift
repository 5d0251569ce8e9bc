import Foundation
import WaymarkCheckpoint
import WaymarkCore

/// `waymark ls STORE_OR_RUN`: lists the committed checkpoints of a store or a run.
enum ListCommand: Command {
  static let name = "ls"
  static let summary = "List the checkpoints of a store or a run, marking the latest and the best"
  static let help = """
    Usage: waymark ls STORE_OR_RUN [--metric NAME] [--mode min|max] [--json]

    Lists every committed checkpoint of STORE_OR_RUN, a checkpoint store (a directory of
    step-… checkpoints) or a run directory (its checkpoints/ folder is listed): step, save
    time, raw and stored size, and metrics. Marks the latest checkpoint, the newest whose
    manifest is valid, which resume tries first, and the best one by --metric. Only
    manifests are read; run 'waymark verify' to check the data too.

    Options:
      --metric NAME   Metric that picks the best checkpoint. Default: val/loss, when any
                      checkpoint records it, else loss.
      --mode MODE     min (the default) or max: whether smaller or larger values of
                      --metric are better. NaN and infinite values never count as best.
      --json          Print the listing as JSON.
      --help          Show this help.

    Exit status: 0 on success, also when a manifest is damaged (the row says so), 2 for a
    usage error or a missing store.
    """
  static let valueOptions: Set<String> = ["metric", "mode"]
  static let flagOptions: Set<String> = ["json"]

  struct Row: Encodable {
    var step: Int64
    var path: String
    var wallTime: Double?
    var savedAt: String?
    var rawByteCount: Int64?
    var storedByteCount: Int64?
    var metrics: [String: Double]
    var isLatest: Bool
    var isBest: Bool
    var problem: String?
  }

  struct Listing: Encodable {
    var store: String
    var metric: String?
    var mode: String?
    var latestStep: Int64?
    var bestStep: Int64?
    var checkpoints: [Row]
  }

  static func run(_ arguments: ParsedArguments, console: Console) async throws -> ExitStatus {
    let path = try arguments.requirePositionals(["STORE_OR_RUN"])[0]
    let mode = try MetricModeArgument.parse(arguments.value("mode"))
    let store = try StoreArgument.resolve(path)
    let summaries = try await CheckpointStore(directory: store).summaries()

    let metric = arguments.value("metric") ?? defaultMetric(in: summaries)
    if let explicit = arguments.value("metric"), explicit.isEmpty {
      throw UsageError("--metric needs a metric name, such as --metric loss")
    }
    let objective = metric.map { MetricObjective(metric: $0, mode: mode ?? .min) }
    let bestStep = objective.flatMap { objective in
      RetentionPlanner(policy: RetentionPolicy(bestBy: objective)).plan(for: summaries).bestStep
    }
    let latestStep = summaries.last(where: \.hasReadableManifest)?.step

    let listing = Listing(
      store: store, metric: objective?.metric, mode: objective?.mode.rawValue,
      latestStep: latestStep,
      bestStep: bestStep,
      checkpoints: summaries.map { summary in
        Row(
          step: summary.step, path: summary.path, wallTime: summary.wallTime,
          savedAt: summary.wallTime.map(formatTime), rawByteCount: summary.rawByteCount,
          storedByteCount: summary.storedByteCount, metrics: summary.metrics,
          isLatest: summary.step == latestStep, isBest: summary.step == bestStep,
          problem: summary.problem)
      })
    if arguments.flag("json") {
      try console.printJSON(listing)
    } else {
      printText(listing, console: console)
    }
    return .success
  }

  /// `loss` when any checkpoint records it, else no metric.
  static func defaultMetric(in summaries: [CheckpointSummary]) -> String? {
    summaries.contains { $0.metrics["val/loss"] != nil }
      ? "val/loss" : summaries.contains { $0.metrics["loss"] != nil } ? "loss" : nil
  }

  static func formatTime(_ wallTime: Double) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: wallTime))
  }

  private static func printText(_ listing: Listing, console: Console) {
    console.print("store  \(listing.store)")
    guard !listing.checkpoints.isEmpty else {
      console.print("no committed checkpoints")
      return
    }
    let stepWidth = max(4, listing.checkpoints.map { String($0.step).count }.max() ?? 4)
    console.print(
      "step".leftPadded(to: stepWidth) + "  saved at              raw         stored      metrics")
    for row in listing.checkpoints {
      var marks: [String] = []
      if row.isLatest { marks.append(console.styled("latest", code: "32")) }
      if row.isBest { marks.append(console.styled("best", code: "33")) }
      let step = String(row.step).leftPadded(to: stepWidth)
      guard row.problem == nil else {
        console.print(
          step + "  " + console.styled("unreadable manifest: ", code: "31") + (row.problem ?? ""))
        continue
      }
      let metrics = row.metrics.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
      console.print(
        step + "  " + (row.savedAt ?? "").padding(toLength: 20, withPad: " ", startingAt: 0) + "  "
          + ByteCountText.format(row.rawByteCount ?? 0).padding(
            toLength: 10, withPad: " ", startingAt: 0) + "  "
          + ByteCountText.format(row.storedByteCount ?? 0).padding(
            toLength: 10, withPad: " ", startingAt: 0)
          + "  " + (metrics.isEmpty ? "-" : metrics.joined(separator: " "))
          + (marks.isEmpty ? "" : "  " + marks.joined(separator: " ")))
    }
    var footer = "\(listing.checkpoints.count) checkpoint(s)"
    if let latest = listing.latestStep { footer += "; latest step \(latest)" }
    if let metric = listing.metric, let mode = listing.mode {
      footer +=
        listing.bestStep.map { "; best step \($0) by \(metric) (\(mode))" }
        ?? "; no finite \(metric) value"
    }
    console.print(footer)
  }
}

/// The STORE_OR_RUN argument of `ls` and `gc`.
enum StoreArgument {
  /// Returns the store directory for `path`: `path/checkpoints` for a run directory,
  /// otherwise `path` itself.
  ///
  /// - Throws: ``CheckpointError`` with `.notFound` when `path` is not a directory, and
  ///   ``UsageError`` when it is a single checkpoint.
  static func resolve(_ path: String) throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw CheckpointError(
        .notFound, "'\(path)' is not a checkpoint store or a run directory; check the path",
        path: path)
    }
    let runCheckpoints = path + "/checkpoints"
    if FileManager.default.fileExists(atPath: runCheckpoints, isDirectory: &isDirectory),
      isDirectory.boolValue
    {
      return runCheckpoints
    }
    if FileManager.default.fileExists(atPath: path + "/" + ManifestFile.fileName) {
      throw UsageError(
        "'\(path)' is a single checkpoint; pass the store that contains it, or use 'waymark inspect' for one checkpoint"
      )
    }
    return path
  }
}

/// The `--mode` option of `ls` and `gc`.
enum MetricModeArgument {
  /// Parses `text` as `min` or `max`; `nil` stays `nil`.
  static func parse(_ text: String?) throws -> MetricMode? {
    guard let text else { return nil }
    guard let mode = MetricMode(rawValue: text) else {
      throw UsageError("--mode must be min or max, not '\(text)'")
    }
    return mode
  }
}

extension String {
  /// Returns the string padded on the left with spaces to `width` characters.
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
