import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

/// Runs the built `waymark` executable against a real store and compares its JSON with the
/// library's planner.
@Suite("Retention on the command line", .serialized)
struct RetentionCommandLineTests {
  struct GCReport: Decodable {
    struct Decision: Decodable {
      struct Reason: Decodable {
        var code: String
        var message: String
      }

      var step: Int64
      var action: String
      var reasons: [Reason]
    }

    var dryRun: Bool
    var keep: [Int64]
    var delete: [Int64]
    var deletedSteps: [Int64]
    var bestStep: Int64?
    var newestStep: Int64?
    var decisions: [Decision]
  }

  struct Listing: Decodable {
    struct Row: Decodable {
      var step: Int64
      var isLatest: Bool
      var isBest: Bool
      var rawByteCount: Int64?
      var storedByteCount: Int64?
    }

    var latestStep: Int64?
    var bestStep: Int64?
    var checkpoints: [Row]
  }

  static func waymark(_ arguments: [String]) throws -> (output: String, status: Int32) {
    try CrashHelperProcess.start(arguments, product: "waymark").waitForExit()
  }

  @Test("gc dry run JSON matches the planner")
  func gcDryRunJSON() async throws {
    try await withTemporaryDirectory { run in
      let store = run + "/checkpoints"
      try await RetentionStoreTests.saveSteps(
        1...8, in: store, losses: [1: 0.9, 2: 0.3, 3: .nan, 5: 0.3, 6: 0.2, 7: 0.8, 8: 0.7])
      let (output, status) = try Self.waymark([
        "gc", run, "--keep-last", "2", "--keep-best", "2", "--metric", "loss", "--keep-every", "4",
        "--dry-run", "--json",
      ])
      #expect(status == 0, "\(output)")
      let report = try JSONDecoder().decode(GCReport.self, from: Data(output.utf8))

      let policy = RetentionPolicy(
        keepLast: 2, keepBest: 2, bestBy: MetricObjective(metric: "loss"), keepEvery: 4)
      let plan = RetentionPlanner(policy: policy).plan(
        for: try await CheckpointStore(directory: store).summaries())
      #expect(report.dryRun)
      #expect(report.keep == [2, 4, 6, 7, 8])
      #expect(report.keep == plan.kept.map(\.step))
      #expect(report.delete == plan.deleted.map(\.step))
      #expect(report.deletedSteps.isEmpty)
      #expect(report.bestStep == 6)
      #expect(report.newestStep == 8)
      #expect(report.decisions.map(\.step) == plan.decisions.map(\.step))
      for (printed, planned) in zip(report.decisions, plan.decisions) {
        #expect(printed.action == planned.action.rawValue, "step \(printed.step)")
        #expect(printed.reasons.map(\.code) == planned.reasons.map(\.code), "step \(printed.step)")
        #expect(
          printed.reasons.map(\.message) == planned.reasons.map(\.description),
          "step \(printed.step)")
      }
      let nan = try #require(report.decisions.first { $0.step == 3 })
      #expect(nan.reasons.map(\.code).contains("metricNotFinite"))
      let missing = try #require(report.decisions.first { $0.step == 4 })
      #expect(missing.action == "keep")
      #expect(try await CheckpointStore(directory: store).committedCheckpoints().count == 8)
    }
  }

  @Test("gc deletes and ls marks latest and best")
  func gcThenList() async throws {
    try await withTemporaryDirectory { store in
      try await RetentionStoreTests.saveSteps(
        1...5, in: store, losses: [1: 0.5, 2: 0.1, 3: 0.4, 4: 0.3, 5: 0.6])
      let (output, status) = try Self.waymark([
        "gc", store, "--keep-last", "1", "--metric", "loss", "--json",
      ])
      #expect(status == 0, "\(output)")
      let report = try JSONDecoder().decode(GCReport.self, from: Data(output.utf8))
      #expect(!report.dryRun)
      #expect(report.deletedSteps == [1, 3, 4])
      #expect(
        try await CheckpointStore(directory: store).committedCheckpoints().map(\.step) == [2, 5])

      let (listed, listStatus) = try Self.waymark(["ls", store, "--json"])
      #expect(listStatus == 0, "\(listed)")
      let listing = try JSONDecoder().decode(Listing.self, from: Data(listed.utf8))
      #expect(listing.latestStep == 5)
      #expect(listing.bestStep == 2)
      #expect(listing.checkpoints.map(\.step) == [2, 5])
      #expect(listing.checkpoints.map(\.isBest) == [true, false])
      #expect(listing.checkpoints.map(\.isLatest) == [false, true])
      #expect(
        listing.checkpoints.allSatisfy {
          ($0.rawByteCount ?? 0) > 0 && ($0.storedByteCount ?? 0) > 0
        })
    }
  }

  @Test(
    "gc rejects bad options with the fix",
    arguments: [
      (["--keep-best", "2"], "--keep-best 2 needs --metric NAME"),
      (
        ["--keep-last", "2", "--metric", "loss", "--mode", "avg"],
        "--mode must be min or max, not 'avg'"
      ),
      ([], "no retention rule given"),
      (["--keep-every", "0"], "--keep-every must be a whole number from 1"),
      (["--keep-one-per", "soon"], "--keep-one-per must be a positive duration"),
    ])
  func gcUsageErrors(options: [String], message: String) async throws {
    try await withTemporaryDirectory { store in
      let process = try CrashHelperProcess.start(
        ["gc", store] + options, product: "waymark", capturingStandardError: true)
      let (output, status) = process.waitForExit()
      #expect(status == 2)
      #expect(output.hasPrefix("error: "), "\(output)")
      #expect(output.contains(message), "\(output)")
    }
  }
}
