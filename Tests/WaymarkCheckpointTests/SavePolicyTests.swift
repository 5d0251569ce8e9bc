import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

/// One call of the training loop: its step, time and metrics, and whether a save is due.
struct ScheduledCall: Sendable {
  var step: Int64
  var seconds: Double = 0
  var metrics: [String: Double] = [:]
  var isDue: Bool
  /// Whether the owner's save is accepted; a skipped save is not recorded.
  var isAccepted = true
}

struct ScheduleCase: Sendable, CustomTestStringConvertible {
  var name: String
  var policy: SavePolicy
  var resumedStep: Int64? = nil
  var resumedBestValue: Double? = nil
  var calls: [ScheduledCall]

  var testDescription: String { name }
}

private let loss = MetricObjective(metric: "loss", mode: .min)

private let scheduleCases: [ScheduleCase] = [
  ScheduleCase(
    name: "every 3 steps from step 0", policy: SavePolicy(everySteps: 3),
    calls: (0...7).map { ScheduledCall(step: $0, isDue: $0 == 3 || $0 == 6) }),
  ScheduleCase(
    name: "every 100 steps with sparse calls", policy: SavePolicy(everySteps: 100),
    calls: [
      ScheduledCall(step: 1, isDue: false), ScheduledCall(step: 99, isDue: false),
      ScheduledCall(step: 102, isDue: true), ScheduledCall(step: 150, isDue: false),
      ScheduledCall(step: 450, isDue: true),
    ]),
  ScheduleCase(
    name: "every 100 steps after resuming at 250", policy: SavePolicy(everySteps: 100),
    resumedStep: 250,
    calls: [
      ScheduledCall(step: 251, isDue: false), ScheduledCall(step: 299, isDue: false),
      ScheduledCall(step: 300, isDue: true),
    ]),
  ScheduleCase(
    name: "every 60 seconds", policy: SavePolicy(everySeconds: 60),
    calls: [
      ScheduledCall(step: 1, seconds: 10, isDue: false),
      ScheduledCall(step: 2, seconds: 60, isDue: true),
      ScheduledCall(step: 3, seconds: 100, isDue: false),
      ScheduledCall(step: 4, seconds: 121, isDue: true),
    ]),
  ScheduleCase(
    name: "improvement in min mode, NaN and missing never improve",
    policy: SavePolicy(onImprovement: loss),
    calls: [
      ScheduledCall(step: 1, metrics: ["loss": 1.0], isDue: true),
      ScheduledCall(step: 2, metrics: ["loss": 1.2], isDue: false),
      ScheduledCall(step: 3, metrics: ["loss": 0.9], isDue: true),
      ScheduledCall(step: 4, metrics: ["loss": .nan], isDue: false),
      ScheduledCall(step: 5, metrics: ["loss": -.infinity], isDue: false),
      ScheduledCall(step: 6, metrics: [:], isDue: false),
      ScheduledCall(step: 7, metrics: ["loss": 0.9], isDue: false),
      ScheduledCall(step: 8, metrics: ["loss": 0.5], isDue: true),
    ]),
  ScheduleCase(
    name: "improvement in max mode",
    policy: SavePolicy(onImprovement: MetricObjective(metric: "acc", mode: .max)),
    calls: [
      ScheduledCall(step: 1, metrics: ["acc": 0.5], isDue: true),
      ScheduledCall(step: 2, metrics: ["acc": 0.4], isDue: false),
      ScheduledCall(step: 3, metrics: ["acc": 0.6], isDue: true),
    ]),
  ScheduleCase(
    name: "minimum improvement",
    policy: SavePolicy(onImprovement: MetricObjective(metric: "loss", minimumImprovement: 0.1)),
    resumedBestValue: 1.0,
    calls: [
      ScheduledCall(step: 1, metrics: ["loss": 0.95], isDue: false),
      ScheduledCall(step: 2, metrics: ["loss": 0.9], isDue: true),
      ScheduledCall(step: 3, metrics: ["loss": 0.85], isDue: false),
    ]),
  ScheduleCase(
    name: "save skipped by backpressure stays due", policy: SavePolicy(everySteps: 5),
    calls: [
      ScheduledCall(step: 1, isDue: false), ScheduledCall(step: 5, isDue: true, isAccepted: false),
      ScheduledCall(step: 6, isDue: true),
      ScheduledCall(step: 7, isDue: false), ScheduledCall(step: 10, isDue: true),
    ]),
  ScheduleCase(
    name: "steps at or before the last save are not due", policy: SavePolicy(everySteps: 1),
    resumedStep: 10,
    calls: [
      ScheduledCall(step: 9, isDue: false), ScheduledCall(step: 10, isDue: false),
      ScheduledCall(step: 11, isDue: true),
    ]),
  ScheduleCase(
    name: "no rule never saves", policy: SavePolicy(),
    calls: [ScheduledCall(step: 1, metrics: ["loss": 1], isDue: false)]),
]

@Suite("Save policy")
struct SavePolicyTests {
  @Test("scheduler decides as the rules say", arguments: scheduleCases)
  func schedule(row: ScheduleCase) {
    var scheduler = SaveScheduler(
      policy: row.policy, startSeconds: 0, resumedStep: row.resumedStep,
      resumedBestValue: row.resumedBestValue)
    for call in row.calls {
      let decision = scheduler.decide(
        step: call.step, metrics: call.metrics, nowSeconds: call.seconds)
      #expect(decision.isDue == call.isDue, "step \(call.step): \(decision)")
      #expect(decision.step == call.step)
      #expect(!decision.reasons.isEmpty)
      #expect(decision.reasons.allSatisfy { $0.makesDue == decision.isDue }, "step \(call.step)")
      if decision.isDue, call.isAccepted {
        scheduler.recordSave(step: call.step, metrics: call.metrics, nowSeconds: call.seconds)
      }
    }
  }

  @Test("reasons say why")
  func reasons() {
    var scheduler = SaveScheduler(
      policy: SavePolicy(everySteps: 10, everySeconds: 30, onImprovement: loss), startSeconds: 0)
    let skip = scheduler.decide(step: 3, metrics: ["loss": .nan], nowSeconds: 12)
    #expect(!skip.isDue)
    #expect(skip.reasons.count == 3)
    #expect(skip.reasons[0] == .stepIntervalNotReached(every: 10, nextStep: 10))
    #expect(skip.reasons[1] == .timeIntervalNotElapsed(everySeconds: 30, elapsedSeconds: 12))
    #expect(
      skip.description
        == "skip step 3: next multiple of 10 steps is step 10; only 12.0 s of 30.0 s since the last save; loss is nan, which never counts as an improvement"
    )

    let due = scheduler.decide(step: 10, metrics: ["loss": 2], nowSeconds: 40)
    #expect(due.isDue)
    #expect(
      due.reasons == [
        .stepIntervalReached(every: 10), .timeIntervalElapsed(everySeconds: 30, elapsedSeconds: 40),
        .metricImproved(metric: "loss", value: 2, previousBest: nil),
      ])
    scheduler.recordSave(step: 10, metrics: ["loss": 2], nowSeconds: 40)
    #expect(scheduler.bestValue == 2)
    #expect(scheduler.lastSavedStep == 10)
    let improved = scheduler.decide(step: 11, metrics: ["loss": 1.5], nowSeconds: 41)
    #expect(improved.reasons == [.metricImproved(metric: "loss", value: 1.5, previousBest: 2)])
    #expect(improved.description == "save step 11: loss improved to 1.5 from 2.0")
  }

  @Test(
    "invalid save policy is rejected",
    arguments: [
      (SavePolicy(everySteps: 0), "everySteps is 0"),
      (SavePolicy(everySeconds: -1), "everySeconds is -1.0"),
      (SavePolicy(everySeconds: .infinity), "everySeconds is inf"),
      (SavePolicy(onImprovement: MetricObjective(metric: "")), "metric name is empty"),
    ])
  func invalidPolicy(policy: SavePolicy, message: String) async throws {
    let error = #expect(throws: CheckpointError.self) { try policy.validate() }
    #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    try await withTemporaryDirectory { directory in
      var options = CheckpointManager.Options()
      options.savePolicy = policy
      await #expect(throws: CheckpointError.self) {
        _ = try await CheckpointManager(directory: directory, options: options)
      }
    }
  }

  @Test("saveIfDue saves on the step interval and on improvement")
  func managerSaveIfDue() async throws {
    try await withTemporaryDirectory { directory in
      var options = CheckpointManager.Options()
      options.savePolicy = SavePolicy(everySteps: 10, onImprovement: loss)
      let manager = try await CheckpointManager(directory: directory, options: options)
      let losses: [Int64: Double] = [1: 5, 4: 4, 12: 6, 15: 3, 17: .nan]
      var saved: [Int64] = []
      for step in Int64(1)...25 {
        let metrics = losses[step].map { ["loss": $0] } ?? [:]
        let result = try await manager.saveIfDue(
          step: step, state: SampleStates.state(step: step), metrics: metrics)
        #expect(result.isSaved == result.decision.isDue, "step \(step)")
        if let ticket = result.ticket {
          try await manager.waitForCommit(of: ticket)
          saved.append(step)
        }
      }
      #expect(saved == [1, 4, 10, 15, 20])
      try await manager.close()

      let resumed = try await CheckpointManager(directory: directory, options: options)
      let worse = try await resumed.saveIfDue(
        step: 26, state: SampleStates.state(step: 26), metrics: ["loss": 3.5])
      #expect(!worse.isSaved)
      #expect(
        worse.decision.reasons.contains(.metricNotImproved(metric: "loss", value: 3.5, best: 3)))
      let interval = try await resumed.saveIfDue(step: 30, state: SampleStates.state(step: 30))
      #expect(interval.isSaved)
      #expect(interval.summary == "save step 30: reached a multiple of 10 steps")
      try await resumed.close()
    }
  }

  @Test("saveIfDue without a rule explains the fix")
  func managerWithoutRule() async throws {
    try await withTemporaryDirectory { directory in
      let manager = try await CheckpointManager(directory: directory)
      let error = await #expect(throws: CheckpointError.self) {
        _ = try await manager.saveIfDue(step: 1, state: TrainingState())
      }
      #expect(error?.code == .invalidArgument)
      #expect(error?.message.contains("Options.savePolicy") == true)
      try await manager.close()
    }
  }

  @Test("save skipped by backpressure stays due")
  func managerBackpressureSkip() async throws {
    let policy = SavePolicy(everySteps: 2)
    try await BackpressureTests.withGatedManager(.skip, savePolicy: policy) { manager, gate, _ in
      let start = try await manager.saveIfDue(step: 1, state: SampleStates.state(step: 1))
      #expect(!start.decision.isDue)
      let first = try await manager.saveIfDue(step: 2, state: SampleStates.state(step: 2))
      #expect(first.isSaved)
      try await gate.waitForArrivals(1)

      let skipped = try await manager.saveIfDue(step: 4, state: SampleStates.state(step: 4))
      #expect(skipped.decision.isDue)
      #expect(!skipped.isSaved)
      #expect(skipped.ticket?.skipReason != nil)
      #expect(
        skipped.summary.hasPrefix(
          "save step 4: reached a multiple of 2 steps; skipped by backpressure: "))

      gate.open()
      try await manager.waitForAllSaves()
      let retried = try await manager.saveIfDue(step: 5, state: SampleStates.state(step: 5))
      #expect(retried.isSaved, "\(retried.summary)")
      try await manager.waitForAllSaves()
      #expect(try await manager.store.committedCheckpoints().map(\.step) == [2, 5])
    }
  }
}
