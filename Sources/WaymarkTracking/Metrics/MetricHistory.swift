public import WaymarkCore

/// Every metric of a run as readers see it, after the resume rule is applied.
///
/// The resume rule: a run that crashed and resumed repeats the steps after its last
/// checkpoint, so those steps must not appear twice. When a resume marker gives the step
/// the run resumed from (`fromStep`), every value logged before the marker at that step
/// or later is dropped. When the marker has no `fromStep`, the step of the first record
/// after the marker takes its place. A marker followed by no record drops nothing. This is
/// the rule TensorBoard applies to a `SessionLog.START` event, which the run writes into
/// its event file at the same step, so both views agree.
public struct MetricHistory: Sendable, Hashable, Codable {
  /// Values of each metric in the order they were logged.
  public var series: [String: [MetricPoint]]
  /// Number of resume markers in the file.
  public var resumeCount: Int
  /// Complete lines that were not valid metric lines and were skipped.
  public var skippedLineCount: Int
  /// Bytes after the last newline: a line a crash cut short, which readers skip.
  public var tornTailByteCount: Int64

  /// Creates a history.
  public init(
    series: [String: [MetricPoint]] = [:], resumeCount: Int = 0, skippedLineCount: Int = 0,
    tornTailByteCount: Int64 = 0
  ) {
    self.series = series
    self.resumeCount = resumeCount
    self.skippedLineCount = skippedLineCount
    self.tornTailByteCount = tornTailByteCount
  }

  /// The largest step of any value, or `nil` when there are none.
  public var lastStep: Int? {
    series.values.compactMap { points in points.map(\.step).max() }.max()
  }

  /// Returns the summary of every metric, in the same form the live run keeps.
  public func summaries() -> [String: MetricSummary] {
    var result: [String: MetricSummary] = [:]
    for (name, points) in series {
      guard let first = points.first else { continue }
      var summary = MetricSummary(value: first.value, step: first.step)
      for point in points.dropFirst() { summary.add(point.value, step: point.step) }
      result[name] = summary
    }
    return result
  }

  /// Reads `metrics.jsonl` and applies the resume rule.
  ///
  /// - Throws: ``TrackingError`` with code `.io` when the file cannot be read. A missing
  ///   file reads as an empty history.
  public static func read(
    from path: String, fileSystem: any FileSystem = PosixFileSystem()
  ) throws -> MetricHistory {
    guard fileSystem.exists(at: path) else { return MetricHistory() }
    var builder = MetricHistoryBuilder()
    let scan = try JSONLinesReader(fileSystem: fileSystem).scan(path: path) { line in
      builder.add(line: line)
    }
    var history = builder.history
    history.tornTailByteCount = scan.tornTailByteCount
    return history
  }
}
