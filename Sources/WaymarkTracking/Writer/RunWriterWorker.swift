import Foundation
import WaymarkCore

/// The writer thread's own state: open files, unwritten bytes, live summaries.
///
/// Only the writer thread touches an instance, from ``RunWriter/start(_:)`` until the loop
/// exits, so it needs no lock.
final class RunWriterWorker {
  private let writer: RunWriter
  private let configuration: RunWriterConfiguration
  private let metricsFile: AppendOnlyFile
  private let eventsFile: AppendOnlyFile
  private let tensorBoardFile: AppendOnlyFile?
  private let eventEncoder = JSONCoding.encoder()

  private var summaryState: MetricSummaryState
  /// Whether a `SessionLog.START` event goes before the next scalar record, at its step:
  /// set after a resume without `fromStep`, until the first record arrives.
  private var isAwaitingTensorBoardRestart = false

  // Bytes encoded but not yet written, kept after a failed write so the next cycle retries.
  private var unwrittenMetricBytes: [UInt8] = []
  private var unwrittenEventBytes: [UInt8] = []
  private var unwrittenTensorBoardBytes: [UInt8] = []
  private var spareRecords: [MetricRecord] = []
  private var nextHeartbeatNanoseconds: UInt64 = 0

  /// Unwritten bytes per file at which older bytes are dropped, so a disk that keeps failing
  /// cannot exhaust memory: 256 MiB.
  private static let maxUnwrittenByteCount = 256 << 20

  /// Opens the run's files, truncating torn tails, and writes the resume marker and the
  /// TensorBoard file header.
  init(writer: RunWriter) throws {
    self.writer = writer
    let configuration = writer.configuration
    self.configuration = configuration
    let fileSystem = configuration.fileSystem
    let layout = RunLayout(directory: configuration.directory)

    metricsFile = try AppendOnlyFile(
      path: layout.metricsFile, completeByteCount: configuration.metricsCompleteByteCount,
      fileSystem: fileSystem)
    eventsFile = try AppendOnlyFile(
      path: layout.eventsFile, completeByteCount: configuration.eventsCompleteByteCount,
      fileSystem: fileSystem)

    if let resume = configuration.resume {
      summaryState = MetricSummaryState(
        resumingFrom: resume.history, isCutKnown: resume.marker.fromStep != nil)
      MetricLineEncoder.append(resume.marker, to: &unwrittenMetricBytes)
    } else {
      summaryState = MetricSummaryState()
    }

    if configuration.writesTensorBoard {
      do {
        try fileSystem.createDirectoryTree(at: layout.tensorBoardDirectory)
      } catch {
        throw TrackingError.io(
          "creating the TensorBoard directory", path: layout.tensorBoardDirectory, error)
      }
      let path = layout.newTensorBoardFile(wallTime: WallClock.now())
      tensorBoardFile = try AppendOnlyFile(path: path, completeByteCount: 0, fileSystem: fileSystem)
      TensorBoardEventEncoder.appendFileVersionRecord(
        wallTime: WallClock.now(), to: &unwrittenTensorBoardBytes)
      if let marker = configuration.resume?.marker {
        if let fromStep = marker.fromStep {
          TensorBoardEventEncoder.appendSessionStartRecord(
            wallTime: marker.wallTime, step: fromStep, to: &unwrittenTensorBoardBytes)
        } else {
          isAwaitingTensorBoardRestart = true
        }
      }
    } else {
      tensorBoardFile = nil
    }
    spareRecords.reserveCapacity(RunWriter.initialRecordCapacity(configuration))
    writer.publish(summaryState.summaries)
  }

  /// Writes the initial events, the resume marker and the first heartbeat, and throws if
  /// any of it fails, so that opening a run reports a disk it cannot write to.
  func runFirstCycle() throws {
    var batch = writer.takeBatch(swappingRecordsWith: &spareRecords)
    try writeBatch(&batch)
    try writeHeartbeat()
    nextHeartbeatNanoseconds =
      MonotonicClock.nanoseconds() + nanoseconds(configuration.heartbeatIntervalSeconds)
  }

  /// Runs cycles until the run stops.
  func runLoop() {
    let flushInterval = nanoseconds(configuration.flushIntervalSeconds)
    var nextFlushNanoseconds = MonotonicClock.nanoseconds() + flushInterval
    while true {
      let now = MonotonicClock.nanoseconds()
      let deadline = min(nextFlushNanoseconds, nextHeartbeatNanoseconds)
      if deadline > now {
        writer.waitForWork(timeoutNanoseconds: deadline - now)
      }

      var batch = writer.takeBatch(swappingRecordsWith: &spareRecords)
      let writeError: (any Error)?
      do {
        try writeBatch(&batch)
        writeError = nil
      } catch {
        writeError = error
        configuration.logger.error(
          "writing metrics and events failed; retrying at the next flush",
          metadata: ["run.id": configuration.runID, "error": "\(error)"])
      }
      runJobs(batch.jobs)
      for waiter in batch.flushWaiters {
        if let writeError { waiter.resume(throwing: writeError) } else { waiter.resume() }
      }

      let afterCycle = MonotonicClock.nanoseconds()
      nextFlushNanoseconds = afterCycle + flushInterval
      if afterCycle >= nextHeartbeatNanoseconds, !batch.isStopping {
        do {
          try writeHeartbeat()
        } catch {
          configuration.logger.error(
            "writing the heartbeat failed; readers may report the run as crashed",
            metadata: ["run.id": configuration.runID, "error": "\(error)"])
        }
        nextHeartbeatNanoseconds = afterCycle + nanoseconds(configuration.heartbeatIntervalSeconds)
      }

      if batch.isStopping {
        stop()
        return
      }
    }
  }

  /// Encodes and writes one batch of records and events, with an fsync per file written.
  private func writeBatch(_ batch: inout RunWriter.Batch) throws {
    var records: [MetricRecord] = []
    swap(&records, &batch.records)
    defer {
      records.removeAll(keepingCapacity: true)
      spareRecords = records
    }
    if batch.droppedRecordCount > 0 {
      recordDroppedRecords(batch.droppedRecordCount)
    }
    guard !records.isEmpty || !batch.events.isEmpty || hasUnwrittenBytes else { return }

    let start = MonotonicClock.nanoseconds()
    defer {
      configuration.profiler.record(
        name: "tracking.flush", category: "tracking", startNanoseconds: start)
    }
    encode(records)
    try encode(batch.events)
    writer.publish(summaryState.summaries)

    try write(&unwrittenMetricBytes, to: metricsFile)
    try write(&unwrittenEventBytes, to: eventsFile)
    if let tensorBoardFile {
      try write(&unwrittenTensorBoardBytes, to: tensorBoardFile)
    }
  }

  private var hasUnwrittenBytes: Bool {
    !unwrittenMetricBytes.isEmpty || !unwrittenEventBytes.isEmpty
      || !unwrittenTensorBoardBytes.isEmpty
  }

  private func encode(_ records: [MetricRecord]) {
    guard !records.isEmpty else { return }
    unwrittenMetricBytes.reserveCapacity(unwrittenMetricBytes.count + records.count * 96)
    for record in records {
      MetricLineEncoder.append(record, to: &unwrittenMetricBytes)
      summaryState.add(record)
    }
    guard tensorBoardFile != nil else { return }
    if isAwaitingTensorBoardRestart, let first = records.first {
      isAwaitingTensorBoardRestart = false
      TensorBoardEventEncoder.appendSessionStartRecord(
        wallTime: first.wallTime, step: first.step, to: &unwrittenTensorBoardBytes)
    }
    for record in records {
      TensorBoardEventEncoder.appendScalarRecord(record, to: &unwrittenTensorBoardBytes)
    }
  }

  private func encode(_ events: [RunEvent]) throws {
    for event in events {
      do {
        unwrittenEventBytes.append(contentsOf: try eventEncoder.encode(event))
        unwrittenEventBytes.append(0x0A)
      } catch {
        configuration.logger.error(
          "an event could not be encoded and was dropped",
          metadata: ["run.id": configuration.runID, "event.id": "\(event.id)", "error": "\(error)"])
      }
    }
  }

  /// Appends `bytes` and fsyncs; on success empties `bytes`, on failure keeps them.
  private func write(_ bytes: inout [UInt8], to file: AppendOnlyFile) throws {
    guard !bytes.isEmpty else { return }
    do {
      try file.append(bytes)
      bytes.removeAll(keepingCapacity: bytes.count < 16 << 20)
      try file.synchronize()
    } catch {
      if bytes.count > Self.maxUnwrittenByteCount {
        configuration.logger.error(
          "dropped unwritten bytes after repeated write failures",
          metadata: [
            "run.id": configuration.runID, "path": file.path, "byteCount": "\(bytes.count)",
          ])
        bytes.removeAll()
      }
      throw error
    }
  }

  private func recordDroppedRecords(_ count: Int) {
    configuration.logger.error(
      "the metric buffer was full, so records were dropped",
      metadata: ["run.id": configuration.runID, "record.count": "\(count)"])
    _ = try? writer.recordEvent(
      kind: .warning,
      message:
        "\(count) metric records were dropped because the writer could not keep up with the disk",
      step: nil, data: ["droppedRecordCount": .int(Int64(count))], error: nil)
  }

  private func runJobs(_ jobs: [RunWriter.Job]) {
    for job in jobs {
      let start = MonotonicClock.nanoseconds()
      do {
        try job.work()
        configuration.profiler.record(
          name: job.spanName, category: "tracking", startNanoseconds: start)
        job.continuation.resume()
      } catch {
        job.continuation.resume(throwing: error)
      }
    }
  }

  private func writeHeartbeat() throws {
    let start = MonotonicClock.nanoseconds()
    let heartbeat = Heartbeat(
      runID: configuration.runID, pid: ProcessIdentity.pid, host: ProcessIdentity.hostName,
      wallTime: WallClock.now())
    let bytes = Array(try JSONCoding.encoder(pretty: true).encode(heartbeat))
    try AtomicFile.write(
      bytes, to: RunLayout(directory: configuration.directory).heartbeatFile, isDurable: false,
      fileSystem: configuration.fileSystem)
    configuration.profiler.record(
      name: "tracking.heartbeat", category: "tracking", startNanoseconds: start)
  }

  /// Final cycle after the loop: fails late waiters and wakes the tasks in `stop()`.
  private func stop() {
    if hasUnwrittenBytes {
      configuration.logger.error(
        "the run stopped with unwritten metrics or events after write failures",
        metadata: ["run.id": configuration.runID])
    }
    let (stopWaiters, late) = writer.markStopped()
    OpenRunRegistry.unregister(configuration.registryKey)
    let stoppedError = TrackingError(
      .runFinished, "run \(configuration.runID) stopped before the request ran",
      path: configuration.directory)
    for job in late.jobs { job.continuation.resume(throwing: stoppedError) }
    for waiter in late.flushWaiters { waiter.resume(throwing: stoppedError) }
    for waiter in stopWaiters { waiter.resume() }
  }

  private func nanoseconds(_ seconds: Double) -> UInt64 {
    UInt64(max(0.001, seconds) * 1e9)
  }
}
