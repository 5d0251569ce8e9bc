import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Run lifecycle")
struct RunLifecycleTests {
  struct TrainingConfig: Codable, Equatable {
    var learningRate: Double
    var batchSize: Int
    var optimizer: String
  }

  @Test("new run is running and writes run.json")
  func newRunIsRunning() async throws {
    try await withTemporaryDirectory { root in
      let config = TrainingConfig(learningRate: 3e-4, batchSize: 32, optimizer: "adamw")
      let run = try await Run.start(
        experiment: "mnist", in: root, name: "baseline", description: "first try", tags: ["cpu"],
        config: config, options: testOptions())
      #expect(await run.status == .running)

      let record = try RunFiles.readRecord(layout: run.layout)
      #expect(record.status == .running)
      #expect(record.name == "baseline")
      #expect(record.experiment == "mnist")
      #expect(record.tags == ["cpu"])
      #expect(record.pid == getpid())
      #expect(try record.config.decode(as: TrainingConfig.self) == config)
      #expect(record.configHash == (try ConfigHash.hash(of: config)))
      #expect(record.environment.cpuCoreCount > 0)
      #expect(!record.environment.kernel.name.isEmpty)
      #expect(record.endTime == nil)
      #expect(run.directory == "\(root)/mnist/\(run.id)")
      #expect(FileManager.default.fileExists(atPath: run.layout.heartbeatFile))
      try await run.finish()
    }
  }

  @Test("finish stores each final status", arguments: [RunStatus.completed, .failed, .interrupted])
  func finishStoresStatus(status: RunStatus) async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      try run.log("loss", 1.5, step: 0)
      let message = status == .failed ? "CUDA out of memory" : nil
      try await run.finish(status: status, errorMessage: message)

      let record = try RunFiles.readRecord(layout: run.layout)
      #expect(record.status == status)
      #expect(record.errorMessage == message)
      let end = try #require(record.endTime)
      #expect(end >= record.startTime)
      let duration = try #require(record.durationSeconds)
      #expect(duration >= 0)
      #expect(FileManager.default.fileExists(atPath: run.layout.summaryFile))
      #expect(FileManager.default.fileExists(atPath: run.layout.profileFile))
      #expect(FileManager.default.fileExists(atPath: run.layout.traceFile))
      let events = try RunFiles.readEvents(layout: run.layout)
      #expect(events.map(\.kind) == [.started, .finished])
      #expect(events.last?.data?["status"] == .string(status.rawValue))
    }
  }

  @Test("finish is idempotent and first status wins")
  func finishIsIdempotent() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      try run.log("loss", 1, step: 1)
      async let first: Void = run.finish(status: .interrupted)
      async let second: Void = run.finish(status: .completed)
      _ = try await (first, second)
      try await run.finish(status: .failed)

      let record = try RunFiles.readRecord(layout: run.layout)
      let events = try RunFiles.readEvents(layout: run.layout)
      #expect([RunStatus.interrupted, .completed].contains(record.status))
      #expect(await run.status == record.status)
      #expect(events.filter { $0.kind == .finished }.count == 1)
    }
  }

  @Test("finish with running status is rejected")
  func finishRunningRejected() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let error = await #expect(throws: TrackingError.self) {
        try await run.finish(status: .running)
      }
      #expect(error?.code == .invalidArgument)
      try await run.finish()
    }
  }

  @Test("log after finish is rejected")
  func logAfterFinishRejected() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      try await run.finish()
      let error = #expect(throws: TrackingError.self) { try run.log("loss", 1, step: 2) }
      #expect(error?.code == .runFinished)
      let eventError = #expect(throws: TrackingError.self) {
        try run.recordEvent("note", message: "late")
      }
      #expect(eventError?.code == .runFinished)
    }
  }

  @Test("log works from synchronous code")
  func logFromSynchronousCode() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      func trainingStep(_ step: Int) throws {
        try run.log("train/loss", 1.0 / Double(step + 1), step: step, epoch: Double(step) / 10)
        try run.log(["train/lr": 0.1, "train/accuracy": 0.5], step: step)
      }
      for step in 0..<20 { try trainingStep(step) }
      try await run.flush()

      let history = try MetricHistory.read(from: run.layout.metricsFile)
      #expect(history.series["train/loss"]?.count == 20)
      #expect(history.series["train/lr"]?.count == 20)
      #expect(history.series["train/loss"]?.last?.epoch == 1.9)
      try await run.finish()
    }
  }

  @Test("background flush writes without an explicit flush")
  func backgroundFlush() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(
        experiment: "e", in: root, options: testOptions(flushIntervalSeconds: 0.05))
      try run.log("loss", 2, step: 3)
      var lines: [String] = []
      for _ in 0..<100 where lines.isEmpty {
        try await Task.sleep(for: .milliseconds(20))
        lines = try readLines(run.layout.metricsFile)
      }
      #expect(lines.count == 1)
      try await run.finish()
    }
  }

  @Test("released run without finish can be resumed")
  func releasedRunResumes() async throws {
    try await withTemporaryDirectory { root in
      var run: Run? = try await Run.start(experiment: "e", in: root, options: testOptions())
      let directory = try #require(run?.directory)
      try run?.log("loss", 1, step: 0)
      run = nil

      // The writer thread writes the buffered value, then leaves the registry as it exits.
      for _ in 0..<200 where OpenRunRegistry.contains(canonicalPath(directory)) {
        try await Task.sleep(for: .milliseconds(10))
      }
      #expect(!OpenRunRegistry.contains(canonicalPath(directory)))
      #expect(try RunReader.details(ofRunAt: directory).status == .running)

      let resumed = try await Run.resume(at: directory, options: testOptions())
      try resumed.log("loss", 2, step: 1)
      try await resumed.finish()
      let history = try MetricHistory.read(from: RunLayout(directory: directory).metricsFile)
      #expect(history.series["loss"]?.map(\.value) == [1, 2])
    }
  }

  @Test(
    "invalid experiment names are rejected", arguments: ["", "..", ".hidden", "a/b", "tab\tname"])
  func invalidExperimentName(name: String) async throws {
    try await withTemporaryDirectory { root in
      let error = await #expect(throws: TrackingError.self) {
        _ = try await Run.start(experiment: name, in: root, options: testOptions())
      }
      #expect(error?.code == .invalidExperimentName)
    }
  }

  @Test("negative step and non-finite epoch are rejected")
  func invalidStepAndEpoch() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let stepError = #expect(throws: TrackingError.self) { try run.log("loss", 1, step: -1) }
      #expect(stepError?.code == .invalidArgument)
      let epochError = #expect(throws: TrackingError.self) {
        try run.log("loss", 1, step: 1, epoch: .nan)
      }
      #expect(epochError?.code == .invalidArgument)
      try await run.finish()
    }
  }

  @Test("profiler records tracker spans")
  func profilerRecordsSpans() async throws {
    try await withTemporaryDirectory { root in
      var options = testOptions()
      options.logSpanSampleInterval = 1
      let run = try await Run.start(experiment: "e", in: root, options: options)
      try run.log("loss", 1, step: 1)
      try await run.flush()
      try await run.finish()

      let names = Set(run.profiler.summary().map(\.name))
      #expect(names.contains("tracking.log.sampled"))
      #expect(names.contains("tracking.flush"))
      #expect(names.contains("tracking.writeRunRecord"))
      let report = try #require(RunFiles.readProfile(layout: run.layout))
      #expect(report.operations.contains { $0.name == "tracking.flush" })
      let trace = try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: run.layout.traceFile)))
      let events = try #require((trace as? [String: Any])?["traceEvents"] as? [[String: Any]])
      #expect(events.contains { $0["name"] as? String == "tracking.flush" })
    }
  }
}

@Suite("RunLifecycle state machine")
struct RunLifecycleStateTests {
  @Test("first finish begins, second waits, third returns")
  func finishSequence() throws {
    var lifecycle = RunLifecycle()
    #expect(lifecycle.isAcceptingRecords)
    #expect(try lifecycle.requestFinish(status: .failed) == .begin(.failed))
    #expect(!lifecycle.isAcceptingRecords)
    #expect(try lifecycle.requestFinish(status: .completed) == .waitForOtherFinish)
    lifecycle.completeFinish()
    #expect(lifecycle.state == .finished(.failed))
    #expect(try lifecycle.requestFinish(status: .completed) == .returnFinished)
  }

  @Test("running is not a final status")
  func runningRejected() {
    var lifecycle = RunLifecycle()
    #expect(throws: TrackingError.self) { try lifecycle.requestFinish(status: .running) }
    #expect(lifecycle.state == .running)
  }
}
