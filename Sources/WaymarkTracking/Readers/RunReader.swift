public import WaymarkCore

/// Library functions behind `waymark runs`: list runs, show one run, compare runs.
///
/// Every function only reads files, never changes them, and may run while the runs are
/// being written. Each returns a `Codable` value for `--json` and has a plain-text renderer
/// (`renderText()`) so the command line stays thin. Each function blocks on file reads;
/// call it off the cooperative thread pool for large runs directories.
public enum RunReader {
  /// Lists the runs under `runsDirectory`, or under one experiment of it.
  ///
  /// - Parameters:
  ///   - runsDirectory: Directory holding `<experiment>/<run-id>/` directories.
  ///   - experiment: Limit the listing to this experiment.
  ///   - metric: Metric whose best value each entry carries.
  ///   - goal: Whether the best value of `metric` is the minimum or the maximum.
  ///   - liveness: The rule that reports `crashed`; the current time and host by default.
  /// - Throws: ``TrackingError`` with code `.notFound` when the runs directory or the
  ///   experiment does not exist. A run whose `run.json` is invalid is reported in
  ///   ``RunList/problems`` instead.
  public static func listRuns(
    in runsDirectory: String, experiment: String? = nil, bestOf metric: String? = nil,
    goal: MetricGoal = .minimize, liveness: LivenessRule = LivenessRule(),
    fileSystem: any FileSystem = PosixFileSystem()
  ) throws -> RunList {
    let experiments: [String]
    if let experiment {
      guard isDirectory("\(runsDirectory)/\(experiment)", fileSystem) else {
        throw TrackingError(
          .notFound,
          "experiment '\(experiment)' not found in '\(runsDirectory)'; list all runs to see the experiments",
          path: "\(runsDirectory)/\(experiment)")
      }
      experiments = [experiment]
    } else {
      experiments = try subdirectories(of: runsDirectory, fileSystem)
    }

    var runs: [RunListEntry] = []
    var problems: [String] = []
    for experimentName in experiments {
      let experimentDirectory = "\(runsDirectory)/\(experimentName)"
      for runName in (try? subdirectories(of: experimentDirectory, fileSystem)) ?? [] {
        let layout = RunLayout(directory: "\(experimentDirectory)/\(runName)")
        guard fileSystem.exists(at: layout.runFile) else { continue }
        do {
          let snapshot = try RunSnapshot.load(
            layout: layout, liveness: liveness, fileSystem: fileSystem)
          var entry = RunListEntry(
            id: snapshot.record.id, experiment: snapshot.record.experiment,
            name: snapshot.record.name,
            directory: layout.directory, status: snapshot.status,
            startTime: snapshot.record.startTime,
            endTime: snapshot.record.endTime, durationSeconds: snapshot.durationSeconds,
            lastStep: snapshot.lastStep, tags: snapshot.record.tags, best: nil)
          if let metric, let best = snapshot.summaries[metric]?.best(for: goal) {
            entry.best = BestMetricValue(
              metric: metric, goal: goal, value: best.value, step: best.step)
          }
          runs.append(entry)
        } catch {
          problems.append("\(layout.directory): \(error)")
        }
      }
    }
    runs.sort { ($0.startTime, $0.id) < ($1.startTime, $1.id) }
    return RunList(
      runsDirectory: runsDirectory, experiment: experiment, metric: metric,
      goal: metric == nil ? nil : goal,
      runs: runs, problems: problems)
  }

  /// Returns the directory of the run with id `id` under `runsDirectory`, searching every
  /// experiment.
  ///
  /// - Throws: ``TrackingError`` with code `.notFound`.
  public static func locateRun(
    id: String, in runsDirectory: String, fileSystem: any FileSystem = PosixFileSystem()
  )
    throws -> String
  {
    for experiment in try subdirectories(of: runsDirectory, fileSystem) {
      let layout = RunLayout(runsDirectory: runsDirectory, experiment: experiment, runID: id)
      if fileSystem.exists(at: layout.runFile) { return layout.directory }
    }
    throw TrackingError(
      .notFound, "no run with id '\(id)' in '\(runsDirectory)'; list the runs to see their ids",
      path: runsDirectory)
  }

  /// Reads the details of the run in `directory`.
  ///
  /// - Throws: ``TrackingError`` with code `.notFound`, `.invalidRunFile` or `.io`.
  public static func details(
    ofRunAt directory: String, liveness: LivenessRule = LivenessRule(),
    fileSystem: any FileSystem = PosixFileSystem()
  ) throws -> RunDetails {
    let layout = RunLayout(directory: directory)
    let snapshot = try RunSnapshot.load(layout: layout, liveness: liveness, fileSystem: fileSystem)
    let events = try RunFiles.readEvents(layout: layout, fileSystem: fileSystem)
    return RunDetails(
      directory: directory, record: snapshot.record, status: snapshot.status,
      heartbeat: snapshot.heartbeat,
      durationSeconds: snapshot.durationSeconds, lastStep: snapshot.lastStep,
      metrics: snapshot.summaries,
      checkpoints: RunFiles.checkpointNames(layout: layout, fileSystem: fileSystem),
      profile: RunFiles.readProfile(layout: layout, fileSystem: fileSystem),
      eventCount: events.count,
      errors: events.filter { $0.kind == .error },
      skippedMetricLineCount: snapshot.skippedMetricLineCount)
  }

  /// Compares the runs in `directories`: config differences by JSON path, and the final
  /// and best value of every metric.
  ///
  /// - Parameters:
  ///   - directories: Two or more run directories.
  ///   - maximizing: Metrics for which higher is better; every other metric's best value
  ///     is its minimum.
  /// - Throws: ``TrackingError`` with code `.invalidArgument` for fewer than two runs or a
  ///   run given twice, or the errors of ``details(ofRunAt:liveness:fileSystem:)``.
  public static func compare(
    runsAt directories: [String], maximizing: Set<String> = [],
    liveness: LivenessRule = LivenessRule(),
    fileSystem: any FileSystem = PosixFileSystem()
  ) throws -> RunComparison {
    guard directories.count >= 2 else {
      throw TrackingError(
        .invalidArgument, "compare needs at least two runs, got \(directories.count)")
    }
    let snapshots = try directories.map {
      try RunSnapshot.load(
        layout: RunLayout(directory: $0), liveness: liveness, fileSystem: fileSystem)
    }
    let ids = snapshots.map(\.record.id)
    if let duplicate = Dictionary(grouping: ids, by: { $0 }).first(where: { $0.value.count > 1 })?
      .key
    {
      throw TrackingError(
        .invalidArgument, "run \(duplicate) is given more than once; compare distinct runs")
    }

    let runs = snapshots.map { snapshot in
      RunComparison.Run(
        id: snapshot.record.id, name: snapshot.record.name, experiment: snapshot.record.experiment,
        status: snapshot.status, configHash: snapshot.record.configHash, lastStep: snapshot.lastStep
      )
    }
    return RunComparison(
      runs: runs, configDifferences: configDifferences(snapshots),
      metrics: metricComparisons(snapshots, maximizing))
  }

  private static func configDifferences(_ snapshots: [RunSnapshot]) -> [RunComparison
    .ConfigDifference]
  {
    let leaves = snapshots.map { ConfigPaths.leaves(of: $0.record.config) }
    let paths = Set(leaves.flatMap(\.keys)).sorted()
    var differences: [RunComparison.ConfigDifference] = []
    for path in paths {
      let values = leaves.map { $0[path] }
      let canonical = Set(values.map { $0.map(CanonicalJSON.string(of:)) ?? "<missing>" })
      guard canonical.count > 1 else { continue }
      var byRun: [String: JSONValue] = [:]
      for (snapshot, value) in zip(snapshots, values) {
        if let value { byRun[snapshot.record.id] = value }
      }
      differences.append(RunComparison.ConfigDifference(path: path, values: byRun))
    }
    return differences
  }

  private static func metricComparisons(_ snapshots: [RunSnapshot], _ maximizing: Set<String>)
    -> [RunComparison.Metric]
  {
    let names = Set(snapshots.flatMap(\.summaries.keys)).sorted()
    return names.map { name in
      let goal: MetricGoal = maximizing.contains(name) ? .maximize : .minimize
      var metric = RunComparison.Metric(
        name: name, goal: goal, final: [:], best: [:], bestStep: [:])
      for snapshot in snapshots {
        guard let summary = snapshot.summaries[name] else { continue }
        metric.final[snapshot.record.id] = summary.last
        if let best = summary.best(for: goal) {
          metric.best[snapshot.record.id] = best.value
          metric.bestStep[snapshot.record.id] = best.step
        }
      }
      return metric
    }
  }

  private static func isDirectory(_ path: String, _ fileSystem: any FileSystem) -> Bool {
    (try? fileSystem.status(at: path).kind) == .directory
  }

  private static func subdirectories(of path: String, _ fileSystem: any FileSystem) throws
    -> [String]
  {
    guard isDirectory(path, fileSystem) else {
      throw TrackingError(
        .notFound, "runs directory '\(path)' not found; pass the directory runs are written to",
        path: path)
    }
    do {
      return try fileSystem.contentsOfDirectory(at: path)
        .filter { $0.kind == .directory && !$0.name.hasPrefix(".") }
        .map(\.name)
    } catch {
      throw TrackingError.io("listing", path: path, error)
    }
  }
}
