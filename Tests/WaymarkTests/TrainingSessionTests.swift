import Foundation
import Testing
import Waymark

@Suite("Training session lifecycle")
struct TrainingSessionTests {
  struct Failure: Error, CustomStringConvertible {
    var description: String { "loss became NaN at step 3" }
  }

  static func options(runs: String) -> TrainingSession.Options {
    var options = TrainingSession.Options(experiment: "unit", runsDirectory: runs)
    options.checkpointEverySteps = 2
    options.handlesInterruptSignals = false
    options.runOptions.codeSnapshot = CodeSnapshotOptions(source: .disabled)
    options.runOptions.probesSlowEnvironment = false
    return options
  }

  static func state(step: Int64) throws -> TrainingState {
    TrainingState(
      tensors: ["weights": try Tensor([Float](repeating: Float(step), count: 64), shape: [8, 8])],
      extraState: ["step": .int(step)])
  }

  static func onlyRun(in runs: String) throws -> RunListEntry {
    let list = try RunReader.listRuns(in: runs)
    return try #require(list.runs.first)
  }

  @Test("returning completes the run and commits saves")
  func completes() async throws {
    try await withTemporaryDirectory { runs in
      try await withTrainingSession(options: Self.options(runs: runs)) { session in
        for step in Int64(1)...5 {
          try session.log(step: step, ["train/loss": 1 / Double(step)])
          try await session.saveIfDue(step: step) { try Self.state(step: step) }
        }
      }
      let run = try Self.onlyRun(in: runs)
      #expect(run.status == .completed)
      let steps = try await CheckpointStore(directory: run.directory + "/checkpoints")
        .committedCheckpoints().map(\.step)
      #expect(steps == [2, 4])
    }
  }

  @Test("throwing fails the run and rethrows")
  func failsAndRethrows() async throws {
    try await withTemporaryDirectory { runs in
      await #expect(throws: Failure.self) {
        try await withTrainingSession(options: Self.options(runs: runs)) { _ in
          throw Failure()
        }
      }
      let run = try Self.onlyRun(in: runs)
      #expect(run.status == .failed)
      let details = try RunReader.details(ofRunAt: run.directory)
      #expect(details.record.errorMessage?.contains("loss became NaN") == true)
    }
  }

  @Test("stop request saves and interrupts")
  func stopRequestInterrupts() async throws {
    try await withTemporaryDirectory { runs in
      try await withTrainingSession(options: Self.options(runs: runs)) { session in
        for step in Int64(1)...9 {
          if step == 3 { session.requestStop() }
          try await session.saveIfDue(step: step) { try Self.state(step: step) }
          if session.isStopRequested { break }
        }
      }
      let run = try Self.onlyRun(in: runs)
      #expect(run.status == .interrupted)
      let steps = try await CheckpointStore(directory: run.directory + "/checkpoints")
        .committedCheckpoints().map(\.step)
      #expect(steps == [2, 3])
    }
  }

  @Test("resume restores the newest checkpoint")
  func resumeRestores() async throws {
    try await withTemporaryDirectory { runs in
      try await withTrainingSession(options: Self.options(runs: runs)) { session in
        for step in Int64(1)...4 {
          try await session.saveIfDue(step: step) { try Self.state(step: step) }
        }
      }
      let first = try Self.onlyRun(in: runs)

      var options = Self.options(runs: runs)
      options.resume = first.directory
      let restoredStep = try await withTrainingSession(options: options) { session in
        let expected = try Self.state(step: 4)
        #expect(session.restored?.state == expected)
        return session.startStep
      }
      #expect(restoredStep == 4)
      #expect(try Self.onlyRun(in: runs).status == .completed)
    }
  }

  @Test("resume keeps values logged at the checkpoint step")
  func resumeKeepsCheckpointStepMetrics() async throws {
    try await withTemporaryDirectory { runs in
      try await withTrainingSession(options: Self.options(runs: runs)) { session in
        for step in Int64(1)...4 {
          try session.log(step: step, ["train/loss": Double(step)])
          try await session.saveIfDue(step: step) { try Self.state(step: step) }
        }
      }
      let directory = try Self.onlyRun(in: runs).directory

      var options = Self.options(runs: runs)
      options.resume = directory
      try await withTrainingSession(options: options) { session in
        #expect(session.startStep == 4)
        try session.log(step: session.startStep + 1, ["train/loss": 5])
      }
      let summary = try #require(try RunReader.details(ofRunAt: directory).metrics["train/loss"])
      #expect(summary.count == 5)
      #expect(summary.last == 5)
    }
  }
}
