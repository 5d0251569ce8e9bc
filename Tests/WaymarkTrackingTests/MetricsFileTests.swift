import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Metrics file")
struct MetricsFileTests {
  @Test("non-finite and extreme values survive a round trip")
  func nonFiniteRoundTrip() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let values: [Double] = [
        .nan, .infinity, -.infinity, -0.0, 0.1, 1e-300, .leastNonzeroMagnitude,
        .greatestFiniteMagnitude, -123.456,
      ]
      for (step, value) in values.enumerated() {
        try run.log("x", value, step: step)
      }
      try run.log(["multi/nan": .nan, "multi/inf": .infinity], step: 99)
      try await run.finish()

      let history = try MetricHistory.read(from: run.layout.metricsFile)
      let points = try #require(history.series["x"])
      #expect(points.count == values.count)
      for (point, value) in zip(points, values) {
        if value.isNaN {
          #expect(point.value.isNaN)
        } else {
          #expect(point.value == value)
          #expect(point.value.sign == value.sign)
        }
      }
      #expect(history.series["multi/nan"]?.first?.value.isNaN == true)
      #expect(history.series["multi/inf"]?.first?.value == .infinity)

      let lines = try readLines(run.layout.metricsFile)
      #expect(lines.contains { $0.contains(#""x":"NaN""#) })
      #expect(lines.contains { $0.contains(#""x":"-Infinity""#) })
      for line in lines {
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(line.utf8)) }
      }
    }
  }

  @Test("line matches the documented format")
  func lineFormat() {
    var bytes: [UInt8] = []
    let record = MetricRecord(
      step: 12, epoch: 1.5, wallTime: 1_733_342_695.123456,
      values: .multiple([("a", 0.25), ("b\"q", .nan)]))
    MetricLineEncoder.append(record, to: &bytes)
    MetricLineEncoder.append(ResumeMarker(eventID: 7, fromStep: 500, wallTime: 2.5), to: &bytes)
    #expect(
      String(decoding: bytes, as: UTF8.self)
        == #"{"epoch":1.5,"step":12,"values":{"a":0.25,"b\"q":"NaN"},"wallTime":1733342695.123456}"#
        + "\n"
        + #"{"resume":{"eventID":7,"fromStep":500,"wallTime":2.500000}}"# + "\n")
  }

  @Test("summary ignores non-finite values for min, max and mean")
  func summaryStatistics() {
    var summary = MetricSummary(value: .nan, step: 0)
    #expect(summary.min == nil)
    for (step, value) in [(1, 3.0), (2, 1.0), (3, .infinity), (4, 5.0), (5, 1.0), (6, -.infinity)] {
      summary.add(value, step: step)
    }
    #expect(summary.count == 7)
    #expect(summary.nonFiniteCount == 3)
    #expect(summary.min == 1)
    #expect(summary.stepOfMin == 2)
    #expect(summary.max == 5)
    #expect(summary.stepOfMax == 4)
    #expect(summary.mean == 2.5)
    #expect(summary.last == -.infinity)
    #expect(summary.lastStep == 6)
  }

  @Test("torn last line is skipped by every reader")
  func tornLastLineSkipped() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      for step in 0..<5 { try run.log("loss", Double(step), step: step) }
      try run.recordEvent("note", message: "before the crash")
      let crashed = try await copyAsCrashed(run, to: "\(root)/crashed")
      try await run.finish()
      let layout = RunLayout(directory: crashed)
      // A crash in the middle of a write leaves a line without its newline. This one parses
      // as JSON on its own, so a reader that ignored the missing newline would misread it.
      try appendRaw(#"{"step":5,"values":{"loss":999},"wallTime":1.0}"#, to: layout.metricsFile)
      try appendRaw(#"{"id":99,"kind":"no"#, to: layout.eventsFile)

      let history = try MetricHistory.read(from: layout.metricsFile)
      #expect(history.series["loss"]?.map(\.step) == [0, 1, 2, 3, 4])
      #expect(history.tornTailByteCount > 0)
      #expect(history.skippedLineCount == 0)
      let events = try RunFiles.readEvents(layout: layout)
      #expect(events.map(\.id) == [1, 2])
      let details = try RunReader.details(ofRunAt: crashed)
      #expect(details.metrics["loss"]?.max == 4)
      #expect(details.skippedMetricLineCount == 1)

      // Resuming truncates the torn tails, so appended lines stay whole.
      let resumed = try await Run.resume(at: crashed, options: testOptions())
      try resumed.log("loss", 5, step: 5)
      try await resumed.finish()
      let after = try MetricHistory.read(from: layout.metricsFile)
      #expect(after.series["loss"]?.map(\.value) == [0, 1, 2, 3, 4, 5])
      #expect(after.tornTailByteCount == 0)
      #expect(after.skippedLineCount == 0)
      let resumedEvent = try #require(
        try RunFiles.readEvents(layout: layout).first { $0.kind == .resumed })
      #expect(resumedEvent.data?["tornMetricsByteCount"]?.intValue ?? 0 > 0)
      #expect(resumedEvent.data?["tornEventsByteCount"]?.intValue ?? 0 > 0)
    }
  }

  @Test("complete but invalid lines are counted and skipped")
  func invalidLinesSkipped() async throws {
    try await withTemporaryDirectory { root in
      let path = "\(root)/metrics.jsonl"
      let text = """
        {"step":1,"values":{"a":1},"wallTime":1.0}
        not json
        {"step":"two","values":{"a":2},"wallTime":1.0}
        {"step":3,"values":{"a":3},"wallTime":1.0}

        """
      try text.write(toFile: path, atomically: false, encoding: .utf8)
      let history = try MetricHistory.read(from: path)
      #expect(history.series["a"]?.map(\.step) == [1, 3])
      #expect(history.skippedLineCount == 2)
    }
  }

  @Test("resumed run replaces repeated steps for readers")
  func resumeReplacesRepeatedSteps() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      for step in 0..<10 {
        try run.log(["loss": Double(step), "acc": 0.1 * Double(step)], step: step)
      }
      let crashed = try await copyAsCrashed(run, to: "\(root)/crashed")
      try await run.finish()

      // The training restored a checkpoint of step 6 and repeats steps 6, 7 and 8.
      let resumed = try await Run.resume(at: crashed, options: testOptions())
      for step in 6..<9 { try resumed.log("loss", 100 + Double(step), step: step) }
      let liveSummaries = try await resumed.metricSummaries()
      try await resumed.finish()

      let history = try MetricHistory.read(from: RunLayout(directory: crashed).metricsFile)
      #expect(history.resumeCount == 1)
      #expect(history.series["loss"]?.map(\.step) == [0, 1, 2, 3, 4, 5, 6, 7, 8])
      #expect(history.series["loss"]?.suffix(3).map(\.value) == [106, 107, 108])
      // The cut applies to every metric: acc of steps 6 to 9 came from the abandoned timeline.
      #expect(history.series["acc"]?.map(\.step) == [0, 1, 2, 3, 4, 5])

      let readerSummaries = history.summaries()
      #expect(liveSummaries == readerSummaries)
      #expect(readerSummaries["loss"]?.max == 108)
      #expect(readerSummaries["loss"]?.count == 9)
      let summaryFile = try #require(RunFiles.readSummary(layout: RunLayout(directory: crashed)))
      #expect(summaryFile.metrics == readerSummaries)
      #expect(summaryFile.lastStep == 8)
    }
  }

  @Test("resume with fromStep cuts before any new value")
  func resumeFromStepCutsImmediately() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      for step in 0..<10 { try run.log("loss", Double(step), step: step) }
      let crashed = try await copyAsCrashed(run, to: "\(root)/crashed")
      try await run.finish()

      let resumed = try await Run.resume(at: crashed, fromStep: 4, options: testOptions())
      let summaries = try await resumed.metricSummaries()
      #expect(summaries["loss"]?.count == 4)
      #expect(summaries["loss"]?.lastStep == 3)
      try await resumed.finish(status: .interrupted)

      let history = try MetricHistory.read(from: RunLayout(directory: crashed).metricsFile)
      #expect(history.series["loss"]?.map(\.step) == [0, 1, 2, 3])
      let record = try RunFiles.readRecord(layout: RunLayout(directory: crashed))
      #expect(record.resumes.count == 1)
      #expect(record.resumes.first?.fromStep == 4)
      #expect(record.resumes.first?.previousStatus == .running)
      #expect(record.status == .interrupted)
    }
  }

  @Test("resume of a run open in this process is rejected")
  func resumeOfOpenRunRejected() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let error = await #expect(throws: TrackingError.self) {
        _ = try await Run.resume(at: run.directory, options: testOptions())
      }
      #expect(error?.code == .runInUse)
      try await run.finish()
      let resumed = try await Run.resume(at: run.directory, options: testOptions())
      try await resumed.finish()
    }
  }

  @Test("resume of a run alive in another process is rejected unless forced")
  func resumeOfLiveRunRejected() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let copy = try await copyAsCrashed(run, to: "\(root)/copy")
      try await run.finish()
      // PID 1 always exists; the heartbeat is fresh and names this host.
      try writeHeartbeat(
        in: copy, pid: 1, host: ProcessIdentity.hostName, wallTime: Date().timeIntervalSince1970)

      let error = await #expect(throws: TrackingError.self) {
        _ = try await Run.resume(at: copy, options: testOptions())
      }
      #expect(error?.code == .runInUse)
      #expect(error?.message.contains("process 1") == true)
      let forced = try await Run.resume(at: copy, isForced: true, options: testOptions())
      try await forced.finish()
    }
  }

  @Test("resume of a missing directory reports not found")
  func resumeMissingDirectory() async throws {
    try await withTemporaryDirectory { root in
      let error = await #expect(throws: TrackingError.self) {
        _ = try await Run.resume(at: "\(root)/nope", options: testOptions())
      }
      #expect(error?.code == .notFound)
    }
  }
}
