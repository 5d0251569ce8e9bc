import Testing

@testable import WaymarkCheckpoint

/// One row of the retention table: checkpoints as (step, loss) pairs, a policy, and the
/// steps that must stay.
struct RetentionCase: CustomTestStringConvertible, Sendable {
  var name: String
  var policy: RetentionPolicy
  var checkpoints: [CheckpointSummary]
  var kept: [Int64]
  var best: Int64?

  var testDescription: String { name }

  /// Checkpoints at `steps` whose wall time equals the step, with the losses given
  /// (`nil` leaves the metric out).
  static func losses(_ values: [(Int64, Double?)]) -> [CheckpointSummary] {
    values.map { step, loss in
      CheckpointSummary(
        step: step, path: "/store/step-\(step)", wallTime: Double(step),
        metrics: loss.map { ["loss": $0, "accuracy": 0.5] } ?? ["accuracy": 0.5])
    }
  }

  static func steps(_ range: ClosedRange<Int64>) -> [CheckpointSummary] {
    losses(range.map { ($0, nil) })
  }
}

private let minLoss = MetricObjective(metric: "loss", mode: .min)
private let maxLoss = MetricObjective(metric: "loss", mode: .max)

private let retentionCases: [RetentionCase] = [
  RetentionCase(
    name: "keep last 2", policy: RetentionPolicy(keepLast: 2),
    checkpoints: RetentionCase.steps(1...5),
    kept: [4, 5]),
  RetentionCase(
    name: "keep every 5 together with keep last 2",
    policy: RetentionPolicy(keepLast: 2, keepEvery: 5), checkpoints: RetentionCase.steps(1...12),
    kept: [5, 10, 11, 12]),
  RetentionCase(
    name: "keep every alone still keeps the newest", policy: RetentionPolicy(keepEvery: 10),
    checkpoints: RetentionCase.steps(1...3), kept: [3]),
  RetentionCase(
    name: "best 2 by min", policy: RetentionPolicy(keepBest: 2, bestBy: minLoss),
    checkpoints: RetentionCase.losses([(1, 0.9), (2, 0.5), (3, 0.7), (4, 0.4), (5, 0.8)]),
    kept: [2, 4, 5], best: 4),
  RetentionCase(
    name: "best 2 by max", policy: RetentionPolicy(keepBest: 2, bestBy: maxLoss),
    checkpoints: RetentionCase.losses([(1, 0.9), (2, 0.5), (3, 0.7), (4, 0.4), (5, 0.8)]),
    kept: [1, 5], best: 1),
  RetentionCase(
    name: "NaN and infinities never best in min mode",
    policy: RetentionPolicy(keepBest: 1, bestBy: minLoss),
    checkpoints: RetentionCase.losses([
      (1, .nan), (2, 0.5), (3, .infinity), (4, -.infinity), (5, 0.6), (6, .nan),
    ]),
    kept: [2, 6], best: 2),
  RetentionCase(
    name: "NaN and infinities never best in max mode",
    policy: RetentionPolicy(keepBest: 1, bestBy: maxLoss),
    checkpoints: RetentionCase.losses([(1, .nan), (2, 0.5), (3, .infinity), (4, 0.7), (5, 0.1)]),
    kept: [4, 5], best: 4),
  RetentionCase(
    name: "all NaN leaves no best",
    policy: RetentionPolicy(keepLast: 1, keepBest: 2, bestBy: minLoss),
    checkpoints: RetentionCase.losses([(1, .nan), (2, .nan), (3, .nan)]), kept: [3], best: nil),
  RetentionCase(
    name: "ties in min mode go to the earlier step",
    policy: RetentionPolicy(keepBest: 2, bestBy: minLoss),
    checkpoints: RetentionCase.losses([(1, 0.5), (2, 0.3), (3, 0.3), (4, 0.3), (5, 0.9)]),
    kept: [2, 3, 5], best: 2),
  RetentionCase(
    name: "ties in max mode go to the earlier step",
    policy: RetentionPolicy(keepBest: 1, bestBy: maxLoss),
    checkpoints: RetentionCase.losses([(1, 0.7), (2, 0.7), (3, 0.1), (4, 0.2)]), kept: [1, 4],
    best: 1),
  RetentionCase(
    name: "missing metric is judged by the other rules",
    policy: RetentionPolicy(keepLast: 2, keepBest: 1, bestBy: minLoss),
    checkpoints: RetentionCase.losses([(1, nil), (2, 0.5), (3, nil), (4, 0.6), (5, nil), (6, nil)]),
    kept: [2, 5, 6], best: 2),
  RetentionCase(
    name: "metric missing everywhere keeps the newest only",
    policy: RetentionPolicy(keepBest: 2, bestBy: minLoss), checkpoints: RetentionCase.steps(1...4),
    kept: [4], best: nil),
  RetentionCase(
    name: "minimum improvement not reached keeps the earlier best",
    policy: RetentionPolicy(
      keepBest: 1, bestBy: MetricObjective(metric: "loss", mode: .min, minimumImprovement: 0.1)),
    checkpoints: RetentionCase.losses([(1, 1.0), (2, 0.95), (3, 0.93), (4, 2.0)]), kept: [1, 4],
    best: 1
  ),
  RetentionCase(
    name: "minimum improvement reached moves the best",
    policy: RetentionPolicy(
      keepBest: 1, bestBy: MetricObjective(metric: "loss", mode: .min, minimumImprovement: 0.1)),
    checkpoints: RetentionCase.losses([(1, 1.0), (2, 0.85), (3, 0.8), (4, 2.0)]), kept: [2, 4],
    best: 2),
  RetentionCase(
    name: "minimum improvement in max mode",
    policy: RetentionPolicy(
      keepBest: 2, bestBy: MetricObjective(metric: "loss", mode: .max, minimumImprovement: 0.5)),
    checkpoints: RetentionCase.losses([(1, 1.0), (2, 1.4), (3, 1.6), (4, 0.0)]), kept: [1, 3, 4],
    best: 3),
  RetentionCase(
    name: "current best protected without keep best",
    policy: RetentionPolicy(keepLast: 1, bestBy: minLoss),
    checkpoints: RetentionCase.losses([(1, 0.1), (2, 0.5), (3, 0.6)]), kept: [1, 3], best: 1),
  RetentionCase(
    name: "keep every, keep last and keep best together",
    policy: RetentionPolicy(keepLast: 2, keepBest: 1, bestBy: minLoss, keepEvery: 4),
    checkpoints: RetentionCase.losses([
      (1, 0.9), (2, 0.2), (3, 0.8), (4, 0.7), (5, .nan), (6, 0.6), (7, 0.5), (8, nil), (9, 0.4),
    ]),
    kept: [2, 4, 8, 9], best: 2),
  RetentionCase(
    name: "one per interval keeps the first of each",
    policy: RetentionPolicy(keepOnePerIntervalSeconds: 3600),
    checkpoints: [
      CheckpointSummary(step: 1, wallTime: 0), CheckpointSummary(step: 2, wallTime: 1800),
      CheckpointSummary(step: 3, wallTime: 3600), CheckpointSummary(step: 4, wallTime: 5400),
      CheckpointSummary(step: 5, wallTime: 7300),
    ],
    kept: [1, 3, 5]),
  RetentionCase(
    name: "one per interval with keep last",
    policy: RetentionPolicy(keepLast: 2, keepOnePerIntervalSeconds: 3600),
    checkpoints: [
      CheckpointSummary(step: 1, wallTime: 0), CheckpointSummary(step: 2, wallTime: 1800),
      CheckpointSummary(step: 3, wallTime: 3600), CheckpointSummary(step: 4, wallTime: 5400),
      CheckpointSummary(step: 5, wallTime: 5500), CheckpointSummary(step: 6, wallTime: 5600),
    ],
    kept: [1, 3, 5, 6]),
  RetentionCase(
    name: "unreadable manifest is judged by step rules only",
    policy: RetentionPolicy(keepLast: 1, keepBest: 1, bestBy: minLoss, keepEvery: 3),
    checkpoints: [
      CheckpointSummary(step: 1, problem: "manifest checksum mismatch"),
      CheckpointSummary(step: 2, metrics: ["loss": 0.5]),
      CheckpointSummary(step: 3, problem: "manifest is truncated"),
      CheckpointSummary(step: 4, metrics: ["loss": 0.7]),
    ],
    kept: [2, 3, 4], best: 2),
  RetentionCase(
    name: "damaged newest is still kept",
    policy: RetentionPolicy(keepLast: 1, bestBy: minLoss),
    checkpoints: [
      CheckpointSummary(step: 1, metrics: ["loss": 0.5]),
      CheckpointSummary(step: 2, metrics: ["loss": 0.4]),
      CheckpointSummary(step: 3, problem: "manifest is truncated"),
    ],
    kept: [2, 3], best: 2),
  RetentionCase(
    name: "metric alone keeps everything", policy: RetentionPolicy(bestBy: minLoss),
    checkpoints: RetentionCase.losses([(1, 0.9), (2, 0.5), (3, 0.7)]), kept: [1, 2, 3], best: 2),
  RetentionCase(
    name: "keep all keeps everything", policy: .keepAll, checkpoints: RetentionCase.steps(1...4),
    kept: [1, 2, 3, 4]),
  RetentionCase(
    name: "keep last larger than the store", policy: RetentionPolicy(keepLast: 10),
    checkpoints: RetentionCase.steps(1...3), kept: [1, 2, 3]),
  RetentionCase(
    name: "empty store", policy: RetentionPolicy(keepLast: 1), checkpoints: [], kept: []),
]

@Suite("Retention planner")
struct RetentionPlannerTests {
  @Test("keeps the steps the rules name", arguments: retentionCases)
  func keptSteps(row: RetentionCase) {
    let plan = RetentionPlanner(policy: row.policy).plan(for: row.checkpoints.reversed())
    #expect(plan.kept.map(\.step) == row.kept)
    #expect(plan.decisions.map(\.step) == row.checkpoints.map(\.step).sorted())
    #expect(plan.newestStep == row.checkpoints.map(\.step).max())
    #expect(plan.bestStep == row.best)
    for decision in plan.decisions {
      #expect(!decision.reasons.isEmpty, "step \(decision.step) has no reason")
      #expect(decision.reasons.allSatisfy { $0.keeps == decision.isKept }, "step \(decision.step)")
    }
  }

  @Test("newest and best are never deleted", arguments: retentionCases)
  func protectedSteps(row: RetentionCase) {
    let plan = RetentionPlanner(policy: row.policy).plan(for: row.checkpoints)
    if let newest = row.checkpoints.map(\.step).max() {
      #expect(plan.kept.contains { $0.step == newest })
    }
    if let best = plan.bestStep {
      #expect(plan.kept.contains { $0.step == best })
    }
  }

  @Test("deletion reasons name each rule")
  func deletionReasons() throws {
    let policy = RetentionPolicy(keepLast: 1, keepBest: 1, bestBy: minLoss, keepEvery: 10)
    let plan = RetentionPlanner(policy: policy).plan(
      for: RetentionCase.losses([(1, .nan), (2, nil), (3, 0.9), (4, 0.1), (5, 0.5)]))
    let reasons = Dictionary(uniqueKeysWithValues: plan.decisions.map { ($0.step, $0.reasons) })

    // NaN never equals itself, so the NaN reason is compared by code and text.
    #expect(reasons[1]?.map(\.code) == ["olderThanNewest", "metricNotFinite", "stepNotMultiple"])
    #expect(
      reasons[2] == [
        .olderThanNewest(count: 1), .metricMissing(metric: "loss"), .stepNotMultiple(interval: 10),
      ])
    #expect(
      reasons[3] == [
        .olderThanNewest(count: 1), .belowBest(count: 1, metric: "loss", value: 0.9),
        .stepNotMultiple(interval: 10),
      ])
    #expect(reasons[4] == [.amongBest(rank: 1, count: 1, metric: "loss", value: 0.1)])
    #expect(reasons[5] == [.newest, .amongNewest(rank: 1, count: 1)])
    let text = try #require(plan.decisions.first { $0.step == 1 }).reasonText
    #expect(text.contains("nan, which never counts as best"))
  }

  @Test("best without keep best gives the current best reason")
  func currentBestReason() {
    let plan = RetentionPlanner(policy: RetentionPolicy(keepLast: 1, bestBy: maxLoss))
      .plan(for: RetentionCase.losses([(1, 0.2), (2, 0.9), (3, 0.4)]))
    #expect(plan.decisions[1].reasons == [.currentBest(metric: "loss", value: 0.9)])
    #expect(plan.decisions[0].reasons == [.olderThanNewest(count: 1)])
  }

  @Test("interval reasons carry the interval start")
  func intervalReasons() {
    let plan = RetentionPlanner(policy: RetentionPolicy(keepOnePerIntervalSeconds: 60))
      .plan(for: [
        CheckpointSummary(step: 1, wallTime: 125), CheckpointSummary(step: 2, wallTime: 170),
        CheckpointSummary(step: 3, wallTime: 200),
      ])
    #expect(plan.decisions[0].reasons == [.firstInInterval(seconds: 60, intervalStart: 120)])
    #expect(plan.decisions[1].reasons == [.notFirstInInterval(seconds: 60, intervalStart: 120)])
    #expect(
      plan.decisions[2].reasons == [.newest, .firstInInterval(seconds: 60, intervalStart: 180)])
    #expect(plan.decisions[0].reasonText.contains("1 min interval starting 1970-01-01T00:02:00Z"))
  }

  @Test(
    "invalid policy is rejected with the fix",
    arguments: [
      (RetentionPolicy(keepLast: 0), "keepLast is 0"),
      (RetentionPolicy(keepBest: 2), "keepBest is 2 but no metric is set"),
      (RetentionPolicy(keepBest: 0, bestBy: minLoss), "keepBest is 0"),
      (RetentionPolicy(keepEvery: -5), "keepEvery is -5"),
      (RetentionPolicy(keepOnePerIntervalSeconds: 0), "keepOnePerIntervalSeconds is 0.0"),
      (RetentionPolicy(keepOnePerIntervalSeconds: .nan), "keepOnePerIntervalSeconds is nan"),
      (RetentionPolicy(keepBest: 1, bestBy: MetricObjective(metric: "")), "metric name is empty"),
      (
        RetentionPolicy(
          keepBest: 1, bestBy: MetricObjective(metric: "loss", minimumImprovement: -1)),
        "minimum improvement -1.0 for metric 'loss'"
      ),
    ])
  func invalidPolicy(policy: RetentionPolicy, message: String) {
    let error = #expect(throws: CheckpointError.self) { try policy.validate() }
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
  }

  @Test("policy description lists the rules")
  func policyDescription() {
    let policy = RetentionPolicy(
      keepLast: 3, keepBest: 2, bestBy: minLoss, keepEvery: 100, keepOnePerIntervalSeconds: 86_400)
    #expect(
      policy.description
        == "keep the newest 3, the best 2 by loss (min), every step that is a multiple of 100, the first of every 1 d interval"
    )
    #expect(RetentionPolicy.keepAll.description == "keep everything")
    #expect(RetentionPolicy.keepAll.keepsEverything)
    #expect(!policy.keepsEverything)
  }

  @Test(
    "ranking walks in step order",
    arguments: [
      ([3.0, 1.0, 2.0, 1.0], MetricMode.min, 0.0, [1, 3, 2, 0]),
      ([3.0, 1.0, 2.0, 1.0], MetricMode.max, 0.0, [0, 2, 1, 3]),
      ([1.0, 0.95, 0.85, 0.8], MetricMode.min, 0.1, [2, 3, 0, 1]),
    ])
  func ranking(values: [Double], mode: MetricMode, minimumImprovement: Double, expected: [Int]) {
    let objective = MetricObjective(metric: "m", mode: mode, minimumImprovement: minimumImprovement)
    #expect(objective.ranking(of: values, count: values.count) == expected)
  }
}
