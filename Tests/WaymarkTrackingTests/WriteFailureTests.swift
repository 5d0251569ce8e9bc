import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Write failures")
struct WriteFailureTests {
  @Test("failed flush keeps the data and the next flush writes it once")
  func flushRetriesAfterFailure() async throws {
    try await withTemporaryDirectory { root in
      let fileSystem = FailingFileSystem()
      var options = testOptions(flushIntervalSeconds: 3600)
      options.fileSystem = fileSystem
      let run = try await Run.start(experiment: "e", in: root, options: options)
      for step in 0..<3 { try run.log("loss", Double(step), step: step) }

      fileSystem.setFailing(true)
      let error = await #expect(throws: TrackingError.self) { try await run.flush() }
      #expect(error?.code == .io)
      #expect(error?.path?.hasSuffix("metrics.jsonl") == true)
      #expect(fileSystem.failures > 0)

      // Logging goes on while the disk is broken; the values wait in memory.
      try run.log("loss", 3, step: 3)
      fileSystem.setFailing(false)
      try await run.flush()
      try await run.finish()

      let history = try MetricHistory.read(from: run.layout.metricsFile)
      #expect(history.series["loss"]?.map(\.step) == [0, 1, 2, 3])
      #expect(history.skippedLineCount == 0)
      #expect(history.tornTailByteCount == 0)
      try TensorBoardPython.expectSameScalarsIfAvailable(in: run.layout)
    }
  }

  @Test("finish reports a failed disk and still stops the writer")
  func finishReportsFailure() async throws {
    try await withTemporaryDirectory { root in
      let fileSystem = FailingFileSystem()
      var options = testOptions(flushIntervalSeconds: 3600)
      options.fileSystem = fileSystem
      let run = try await Run.start(experiment: "e", in: root, options: options)
      try run.log("loss", 1, step: 0)

      fileSystem.setFailing(true)
      let error = await #expect(throws: TrackingError.self) {
        try await run.finish(status: .failed)
      }
      #expect(error?.code == .io)
      let again = #expect(throws: TrackingError.self) { try run.log("loss", 2, step: 1) }
      #expect(again?.code == .runFinished)
      #expect(!OpenRunRegistry.contains(canonicalPath(run.directory)))
      #expect(try RunFiles.readRecord(layout: run.layout).status == .running)
    }
  }
}
