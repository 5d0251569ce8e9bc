import WaymarkCore

extension Run {
  /// Part of `run.json` that the slow probes fill in.
  enum ProbeTarget: Sendable {
    case initial
    case resume(index: Int)
  }

  /// Waits for the environment probes and the code snapshot to finish.
  public func waitForBackgroundWork() async {
    for task in backgroundTasks { await task.value }
  }

  func startBackgroundWork(probeTarget: ProbeTarget, snapshot: CodeSnapshotOptions?) {
    if options.probesSlowEnvironment {
      backgroundTasks.append(Task { await self.runSlowProbes(target: probeTarget) })
    }
    if let snapshot {
      let cancellation = CodeSnapshotter.Cancellation()
      snapshotCancellation = cancellation
      backgroundTasks.append(
        Task { await self.takeCodeSnapshot(snapshot, cancellation: cancellation) })
    }
  }

  func runSlowProbes(target: ProbeTarget) async {
    let base: EnvironmentMetadata
    switch target {
    case .initial: base = record.environment
    case .resume(let index): base = record.resumes[index].environment ?? record.environment
    }
    let directory = options.workingDirectory
    let profiler = profiler
    let metadata = try? await BlockingThreadPool.shared.run {
      profiler.measure("tracking.environmentProbe", category: "tracking") {
        var metadata = base
        EnvironmentProbe.collectSlow(into: &metadata, gitDirectory: directory)
        return metadata
      }
    }
    guard let metadata else { return }
    switch target {
    case .initial: record.environment = metadata
    case .resume(let index): record.resumes[index].environment = metadata
    }
    if !metadata.probeFailures.isEmpty {
      _ = try? writer.recordEvent(
        kind: .warning,
        message: "environment probes failed: \(metadata.probeFailures.joined(separator: "; "))",
        step: nil, data: nil, error: nil)
    }
    do {
      try await persistRecord()
    } catch {
      options.logger.error(
        "writing run.json after the environment probes failed",
        metadata: ["run.id": id, "error": "\(error)"])
    }
  }

  func takeCodeSnapshot(
    _ snapshot: CodeSnapshotOptions, cancellation: CodeSnapshotter.Cancellation
  ) async {
    let snapshotter = CodeSnapshotter(
      options: snapshot, destination: layout.codeDirectory, fileSystem: options.fileSystem,
      cancellation: cancellation)
    let profiler = profiler
    guard
      let report = try? await BlockingThreadPool.shared.run({
        profiler.measure("tracking.snapshot", category: "tracking") { snapshotter.run() }
      })
    else { return }
    record.codeSnapshot = report

    let data: [String: JSONValue] = [
      "copiedFileCount": .int(Int64(report.copiedFileCount)),
      "copiedByteCount": .int(report.copiedByteCount),
      "skippedFileCount": .int(Int64(report.skippedFileCount)),
      "skippedByteCount": .int(report.skippedByteCount),
      "maxByteCount": .int(report.maxByteCount),
      "isPatchTruncated": .bool(report.isPatchTruncated),
    ]
    switch report.outcome {
    case .truncated:
      let patchNote = report.isPatchTruncated ? ", and uncommitted.patch was cut" : ""
      _ = try? writer.recordEvent(
        kind: .codeSnapshotTruncated,
        message:
          "code snapshot reached its cap of \(report.maxByteCount) bytes: \(report.skippedFileCount) files (\(report.skippedByteCount) bytes) were left out\(patchNote); raise CodeSnapshotOptions.maxByteCount to keep them",
        step: nil, data: data, error: nil)
      options.logger.warning(
        "code snapshot truncated at its byte cap",
        metadata: ["run.id": id, "snapshot.skippedFileCount": "\(report.skippedFileCount)"])
    case .complete:
      _ = try? writer.recordEvent(
        kind: .codeSnapshotCompleted,
        message:
          "code snapshot copied \(report.copiedFileCount) files (\(report.copiedByteCount) bytes)",
        step: nil, data: data, error: nil)
    case .failed:
      _ = try? writer.recordEvent(
        kind: .warning, message: "code snapshot failed: \(report.failure ?? "unknown reason")",
        step: nil,
        data: data, error: nil)
      options.logger.warning(
        "code snapshot failed", metadata: ["run.id": id, "error": report.failure ?? "unknown"])
    case .cancelled, .inProgress:
      break
    }
    do {
      try await persistRecord()
    } catch {
      options.logger.error(
        "writing run.json after the code snapshot failed",
        metadata: ["run.id": id, "error": "\(error)"])
    }
  }
}
