import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Run reader")
struct RunReaderTests {
  /// Starts and finishes a run that logged `losses` at steps 0, 1, 2, ...
  private func finishedRun(
    in runs: String, experiment: String = "mnist", config: JSONValue, losses: [Double],
    status: RunStatus = .completed
  ) async throws -> Run {
    let run = try await Run.start(
      experiment: experiment, in: runs, tags: ["test"], config: config, options: testOptions())
    for (step, loss) in losses.enumerated() {
      try run.log(["loss": loss, "accuracy": 1 - loss], step: step)
    }
    try FileManager.default.createDirectory(
      atPath: "\(run.layout.checkpointsDirectory)/step-\(losses.count - 1)",
      withIntermediateDirectories: true)
    try await run.finish(status: status)
    return run
  }

  @Test("list reports status, last step, duration and best value")
  func listRuns() async throws {
    try await withTemporaryDirectory { root in
      let runs = "\(root)/runs"
      let first = try await finishedRun(in: runs, config: ["lr": 0.1], losses: [0.9, 0.4, 0.6])
      let second = try await finishedRun(
        in: runs, config: ["lr": 0.01], losses: [0.8, 0.7], status: .failed)
      _ = try await finishedRun(in: runs, experiment: "cifar", config: [:], losses: [0.5])

      let list = try RunReader.listRuns(in: runs, experiment: "mnist", bestOf: "loss")
      #expect(list.runs.map(\.id).sorted() == [first.id, second.id].sorted())
      let entry = try #require(list.runs.first { $0.id == first.id })
      #expect(entry.status == .completed)
      #expect(entry.lastStep == 2)
      #expect(entry.best == BestMetricValue(metric: "loss", goal: .minimize, value: 0.4, step: 1))
      #expect(entry.durationSeconds != nil)
      #expect(list.runs.first { $0.id == second.id }?.status == .failed)

      let maximized = try RunReader.listRuns(in: runs, bestOf: "accuracy", goal: .maximize)
      #expect(maximized.runs.count == 3)
      #expect(maximized.runs.first { $0.id == first.id }?.best?.value == 1 - 0.4)

      let text = list.renderText()
      #expect(text.contains("MIN loss"))
      #expect(text.contains(first.id))
      #expect(text.contains("0.4 @ 1"))
      let json = try JSONCoding.encoder().encode(list)
      #expect(try JSONCoding.decoder().decode(RunList.self, from: json) == list)
    }
  }

  @Test("list reports a missing experiment and unreadable runs")
  func listProblems() async throws {
    try await withTemporaryDirectory { root in
      let runs = "\(root)/runs"
      _ = try await finishedRun(in: runs, config: [:], losses: [1])
      let error = #expect(throws: TrackingError.self) {
        try RunReader.listRuns(in: runs, experiment: "nope")
      }
      #expect(error?.code == .notFound)
      let missing = #expect(throws: TrackingError.self) {
        try RunReader.listRuns(in: "\(root)/missing")
      }
      #expect(missing?.code == .notFound)

      try FileManager.default.createDirectory(
        atPath: "\(runs)/mnist/broken", withIntermediateDirectories: true)
      try "{not json".write(
        toFile: "\(runs)/mnist/broken/run.json", atomically: true, encoding: .utf8)
      let list = try RunReader.listRuns(in: runs)
      #expect(list.runs.count == 1)
      #expect(list.problems.count == 1)
      #expect(list.problems.first?.contains("broken") == true)
    }
  }

  @Test("details include config, summaries, checkpoints and profile")
  func details() async throws {
    try await withTemporaryDirectory { root in
      let run = try await finishedRun(
        in: "\(root)/runs", config: ["model": ["depth": 18]], losses: [0.9, 0.3])
      let located = try RunReader.locateRun(id: run.id, in: "\(root)/runs")
      #expect(located == run.directory)

      let details = try RunReader.details(ofRunAt: located)
      #expect(details.record.config == ["model": ["depth": 18]])
      #expect(details.metrics["loss"]?.min == 0.3)
      #expect(details.metrics["loss"]?.count == 2)
      #expect(details.checkpoints == ["step-1"])
      #expect(details.profile?.operations.isEmpty == false)
      #expect(details.eventCount == 2)
      #expect(details.lastStep == 1)

      let text = details.renderText()
      #expect(text.contains("model.depth = 18"))
      #expect(text.contains("step-1"))
      #expect(text.contains("tracking.flush"))
    }
  }

  @Test("details of a running run read metrics.jsonl")
  func detailsOfRunningRun() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      try run.log("loss", 3, step: 4)
      try await run.flush()
      let details = try RunReader.details(ofRunAt: run.directory)
      #expect(details.status == .running)
      #expect(details.metrics["loss"]?.last == 3)
      #expect(details.lastStep == 4)
      try await run.finish()
    }
  }

  @Test("compare shows config differences by path and metrics side by side")
  func compare() async throws {
    try await withTemporaryDirectory { root in
      let runs = "\(root)/runs"
      let first = try await finishedRun(
        in: runs,
        config: ["optimizer": ["lr": 0.1, "name": "sgd"], "layers": [64, 64], "seed": 1],
        losses: [0.9, 0.5])
      let second = try await finishedRun(
        in: runs,
        config: ["optimizer": ["lr": 0.01, "name": "sgd"], "layers": [64, 128, 10], "seed": 1.0],
        losses: [0.8, 0.2, 0.3])

      let comparison = try RunReader.compare(
        runsAt: [first.directory, second.directory], maximizing: ["accuracy"])
      #expect(comparison.runs.map(\.id) == [first.id, second.id])
      #expect(
        comparison.configDifferences.map(\.path) == ["layers[1]", "layers[2]", "optimizer.lr"])
      let layers2 = try #require(comparison.configDifferences.first { $0.path == "layers[2]" })
      #expect(layers2.values == [second.id: 10])

      let loss = try #require(comparison.metrics.first { $0.name == "loss" })
      #expect(loss.goal == .minimize)
      #expect(loss.final == [first.id: 0.5, second.id: 0.3])
      #expect(loss.best == [first.id: 0.5, second.id: 0.2])
      #expect(loss.bestStep == [first.id: 1, second.id: 1])
      let accuracy = try #require(comparison.metrics.first { $0.name == "accuracy" })
      #expect(accuracy.goal == .maximize)
      #expect(accuracy.best[second.id] == 0.8)

      let text = comparison.renderText()
      #expect(text.contains("optimizer.lr"))
      #expect(text.contains("(missing)"))
      #expect(text.contains("0.3 / 0.2 @ 1"))
    }
  }

  @Test("compare rejects fewer than two runs and duplicates")
  func compareArguments() async throws {
    try await withTemporaryDirectory { root in
      let run = try await finishedRun(in: root, config: [:], losses: [1])
      let one = #expect(throws: TrackingError.self) {
        try RunReader.compare(runsAt: [run.directory])
      }
      #expect(one?.code == .invalidArgument)
      let twice = #expect(throws: TrackingError.self) {
        try RunReader.compare(runsAt: [run.directory, run.directory])
      }
      #expect(twice?.code == .invalidArgument)
    }
  }

  @Test("config paths quote keys that are not identifiers")
  func configPaths() {
    let leaves = ConfigPaths.leaves(of: [
      "a.b": 1, "list": [], "nested": ["x y": [true]], "ok_key-2": "v",
    ])
    #expect(Set(leaves.keys) == [#"$["a.b"]"#, "list", #"nested["x y"][0]"#, "ok_key-2"])
    #expect(ConfigPaths.leaves(of: 5) == ["$": 5])
  }
}
