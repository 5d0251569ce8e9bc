import Foundation
import Testing
import Waymark
import WaymarkDemo

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite("Demo kill and resume")
struct DemoResumeTests {
  /// Writes the sample corpus into `directory` and returns the settings that train on it.
  static func settings(writingCorpusInto directory: String) throws -> DemoRunSettings {
    let corpus = directory + "/corpus.txt"
    try writeSampleCorpus(to: corpus)
    return DemoRunSettings(
      dataPath: corpus, steps: 160, size: .small, model: DemoModelSize.small.configuration,
      checkpointEverySteps: 20, evaluateEverySteps: 80)
  }

  static func options(settings: DemoRunSettings, runs: String) -> DemoTrainer.Options {
    var options = DemoTrainer.Options(settings: settings)
    options.runsDirectory = runs
    options.handlesInterruptSignals = false
    return options
  }

  @Test("SIGKILL then resume matches an uninterrupted run")
  func killAndResume() async throws {
    try await withTemporaryDirectory { directory in
      let settings = try Self.settings(writingCorpusInto: directory)

      let straight = try await DemoTrainer.run(
        Self.options(settings: settings, runs: directory + "/straight"))
      #expect(straight.isComplete)
      #expect(straight.finalValidationLoss < straight.uniformLoss)

      let runDirectory = try await runUntilKilled(settings: settings, runs: directory + "/killed")
      let listing = try RunReader.listRuns(in: directory + "/killed")
      #expect(listing.runs.first?.status == .crashed)

      var resume = Self.options(settings: settings, runs: directory + "/killed")
      resume.resume = runDirectory
      let resumed = try await DemoTrainer.run(resume)
      #expect(resumed.resumedFromStep != nil)
      #expect(resumed.finalStep == settings.steps)
      #expect(resumed.finalValidationLoss.bitPattern == straight.finalValidationLoss.bitPattern)

      let report = try await CheckpointVerifier().verify(path: runDirectory)
      #expect(report.ok)
    }
  }

  @Test("idle writer commits every checkpoint")
  func idleWriter() async throws {
    try await withTemporaryDirectory { directory in
      var settings = try Self.settings(writingCorpusInto: directory)
      settings.steps = 60
      var options = Self.options(settings: settings, runs: directory + "/runs")
      options.writerPriority = .idle

      let summary = try await DemoTrainer.run(options)
      #expect(summary.isComplete)
      #expect(summary.checkpointsWritten == 3)
      #expect(summary.checkpointsFailed == 0)
      let report = try await CheckpointVerifier().verify(path: summary.runDirectory)
      #expect(report.ok)
      #expect(report.checkpoints.count == 3)
    }
  }

  @Test("resume with changed text leaves the run completed")
  func changedTextKeepsStatus() async throws {
    try await withTemporaryDirectory { directory in
      var settings = try Self.settings(writingCorpusInto: directory)
      settings.steps = 40
      let summary = try await DemoTrainer.run(
        Self.options(settings: settings, runs: directory + "/runs"))
      #expect(summary.isComplete)

      let handle = try #require(FileHandle(forWritingAtPath: settings.dataPath))
      try handle.seekToEnd()
      try handle.write(contentsOf: Data("one more sentence.\n".utf8))
      try handle.close()
      var resume = Self.options(settings: settings, runs: directory + "/runs")
      resume.resume = summary.runDirectory
      resume.stepsOverride = 80
      let error = await #expect(throws: DemoError.self) { try await DemoTrainer.run(resume) }
      #expect(error?.message.contains("changed since step 40") == true)

      let listing = try RunReader.listRuns(in: directory + "/runs")
      #expect(listing.runs.first?.status == .completed)
    }
  }

  /// Starts `waymark demo` as a child process, kills it with SIGKILL once it has committed a
  /// few checkpoints, and returns its run directory.
  private func runUntilKilled(settings: DemoRunSettings, runs: String) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try locateWaymarkExecutable())
    process.arguments = [
      "demo", "--data", settings.dataPath, "--runs", runs, "--steps", "\(settings.steps)",
      "--checkpoint-every", "\(settings.checkpointEverySteps)", "--eval-every",
      "\(settings.evaluateEverySteps)",
      "--quiet", "--keep-last", "100",
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()

    let checkpoints = try await waitForCheckpoints(under: runs, atLeast: 3, timeoutSeconds: 120)
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal)
    return checkpoints
  }

  private func waitForCheckpoints(under runs: String, atLeast count: Int, timeoutSeconds: Double)
    async throws
    -> String
  {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
      let experiment = runs + "/demo"
      if let run = try? FileManager.default.contentsOfDirectory(atPath: experiment).first {
        let store = experiment + "/" + run + "/checkpoints"
        let steps = (try? FileManager.default.contentsOfDirectory(atPath: store))?.filter {
          $0.hasPrefix("step-")
        }
        if let steps, steps.count >= count { return experiment + "/" + run }
      }
      try await Task.sleep(nanoseconds: 10_000_000)
    }
    Issue.record("the demo committed fewer than \(count) checkpoints in \(timeoutSeconds) s")
    throw CancellationError()
  }
}
