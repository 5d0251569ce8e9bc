import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Event log")
struct EventLogTests {
  struct DataLoaderError: Error, CustomStringConvertible {
    var file: String
    var description: String { "shard \(file) is truncated" }
  }

  @Test("event ids increase across resumes")
  func idsIncreaseAcrossResume() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      #expect(try run.recordEvent("note", message: "one") == 2)
      #expect(
        try run.recordEvent(.checkpoint, message: "saved", step: 10, data: ["path": "ckpt-10"]) == 3
      )
      let crashed = try await copyAsCrashed(run, to: "\(root)/crashed")
      try await run.finish()

      let first = try await Run.resume(at: crashed, options: testOptions())
      let afterFirstResume = try first.recordEvent("note", message: "after the first resume")
      try await first.finish(status: .interrupted)
      let second = try await Run.resume(at: crashed, options: testOptions())
      let afterSecondResume = try second.recordEvent("note", message: "after the second resume")
      try await second.finish()

      let events = try RunFiles.readEvents(layout: RunLayout(directory: crashed))
      let ids = events.map(\.id)
      #expect(ids == Array(1...ids.count))
      #expect(afterFirstResume == 5)
      #expect(afterSecondResume == 8)
      #expect(
        events.map(\.kind) == [
          .started, "note", .checkpoint, .resumed, "note", .finished, .resumed, "note", .finished,
        ])
      #expect(events[2].step == 10)
      #expect(events[2].data?["path"] == "ckpt-10")
      let markers = try readLines(RunLayout(directory: crashed).metricsFile).filter {
        $0.contains("resume")
      }
      #expect(markers.count == 2)
      #expect(markers[0].contains(#""eventID":4"#))
    }
  }

  @Test("recorded error carries type, message, context and call stack")
  func errorDetails() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let id = try run.recordError(
        DataLoaderError(file: "train-0003.tar"), context: ["worker": "2"], step: 41)
      try await run.flush()

      let events = try RunFiles.readEvents(layout: run.layout)
      let event = try #require(events.first { $0.id == id })
      #expect(event.kind == .error)
      #expect(event.step == 41)
      let details = try #require(event.error)
      #expect(details.type.hasSuffix("DataLoaderError"))
      #expect(details.message == "shard train-0003.tar is truncated")
      #expect(details.context == ["worker": "2"])
      #expect(!details.callStack.isEmpty)
      #expect(event.message.contains("train-0003.tar"))
      try await run.finish(status: .failed, errorMessage: details.message)

      let runDetails = try RunReader.details(ofRunAt: run.directory)
      #expect(runDetails.errors.map(\.id) == [id])
    }
  }

  @Test(
    "invalid event kinds are rejected",
    arguments: ["", "bad\nkind", String(repeating: "k", count: 129)])
  func invalidKinds(kind: String) async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      let error = #expect(throws: TrackingError.self) {
        try run.recordEvent(EventKind(rawValue: kind), message: "x")
      }
      #expect(error?.code == .invalidArgument)
      try await run.finish()
    }
  }
}
