/// The best checkpoint of a store by a metric, with the value that ranked it.
public struct BestCheckpoint: Sendable, Equatable {
  /// The checkpoint.
  public var entry: CheckpointEntry
  /// The metric's value in its manifest; always finite.
  public var value: Double
  /// Its summary, with every metric and its sizes.
  public var summary: CheckpointSummary
}

extension CheckpointStore {
  /// Finds the best committed checkpoint by `objective`.
  ///
  /// Checkpoints whose manifest is damaged, or whose value of the metric is missing, NaN or
  /// infinite, never count as best. Ties and `minimumImprovement` follow
  /// ``MetricObjective``: the checkpoints are walked in step order and a later one replaces
  /// the current best only when it improves on it by at least the minimum, so on a tie the
  /// earlier step wins. Retention uses the same rule for the checkpoint it never deletes.
  ///
  /// Only manifests are checked; load the step to check its data too.
  ///
  /// - Returns: The best checkpoint, or `nil` when none has a finite value of the metric.
  /// - Throws: ``CheckpointError`` with `.notFound` when the store cannot be listed, or
  ///   `.invalidArgument` for an invalid objective.
  /// - Complexity: One manifest read per committed checkpoint.
  public func best(by objective: MetricObjective) async throws -> BestCheckpoint? {
    try objective.validate()
    let summaries = try await summaries().filter(\.hasReadableManifest)
    let rankable = summaries.filter { objective.rankableValue(in: $0.metrics) != nil }
    let values = rankable.compactMap { objective.rankableValue(in: $0.metrics) }
    guard let position = objective.ranking(of: values, count: 1).first else { return nil }
    let summary = rankable[position]
    return BestCheckpoint(
      entry: CheckpointEntry(step: summary.step, path: summary.path), value: values[position],
      summary: summary)
  }

  /// Finds the best committed checkpoint by `metric`; see ``best(by:)``.
  ///
  /// - Parameters:
  ///   - metric: Name of the metric recorded at save time.
  ///   - mode: Whether smaller (`.min`, the default) or larger values are better.
  public func best(metric: String, mode: MetricMode = .min) async throws -> BestCheckpoint? {
    try await best(by: MetricObjective(metric: metric, mode: mode))
  }

  /// Loads the best committed checkpoint by `objective` with every checksum checked.
  ///
  /// - Returns: The checkpoint, or `nil` when none has a finite value of the metric.
  /// - Throws: The errors of ``best(by:)``, and of loading when the best checkpoint's data
  ///   is damaged: the best is never replaced by a worse one silently.
  public func loadBest(by objective: MetricObjective) async throws -> LoadedCheckpoint? {
    guard let best = try await best(by: objective) else { return nil }
    return try await CheckpointReader(fileSystem: fileSystem, pool: pool, profiler: profiler)
      .load(checkpointAt: best.entry.path)
  }
}
