/// Decides which checkpoints a ``RetentionPolicy`` keeps. A pure value: it reads no files,
/// so every rule is tested on hand-made summaries.
///
/// The rules, each judged on its own, then combined so that any rule keeping a checkpoint
/// keeps it:
///
/// 1. The newest checkpoint by step is kept, always.
/// 2. `keepLast` N keeps the N newest by step.
/// 3. `bestBy` ranks the checkpoints with a finite value of its metric, as
///    ``MetricObjective`` describes. The first in that ranking is the current best and is
///    kept, always. `keepBest` K keeps the first K. A checkpoint whose value is missing,
///    NaN or infinite, or whose manifest is unreadable, is judged by the other rules only.
/// 4. `keepEvery` M keeps every step that is a multiple of M.
/// 5. `keepOnePerIntervalSeconds` T splits wall time into intervals of T seconds from
///    1970-01-01T00:00:00Z and keeps the checkpoint with the lowest step in each. The first
///    of an interval stays first as later ones arrive, so this rule never deletes what it
///    kept before.
///
/// A policy without any keep rule keeps everything.
public struct RetentionPlanner: Sendable {
  /// The rules to apply.
  public var policy: RetentionPolicy

  /// Creates a planner for `policy`.
  public init(policy: RetentionPolicy) {
    self.policy = policy
  }

  /// Returns a decision for each checkpoint in `checkpoints`, in any order.
  ///
  /// - Complexity: O(n log n + k × n) for n checkpoints and `keepBest` k.
  public func plan(for checkpoints: [CheckpointSummary]) -> RetentionPlan {
    let sorted = checkpoints.sorted { $0.step < $1.step }
    guard let newest = sorted.indices.last else {
      return RetentionPlan(decisions: [], newestStep: nil, bestStep: nil)
    }
    guard !policy.keepsEverything else {
      let decisions = sorted.map {
        RetentionDecision(step: $0.step, path: $0.path, action: .keep, reasons: [.noKeepRule])
      }
      return RetentionPlan(
        decisions: decisions, newestStep: sorted[newest].step,
        bestStep: bestIndex(in: sorted).map { sorted[$0].step })
    }

    var reasons = [[RetentionReason]](repeating: [], count: sorted.count)
    reasons[newest].append(.newest)
    applyKeepLast(to: sorted, reasons: &reasons)
    let best = applyBest(to: sorted, reasons: &reasons)
    applyKeepEvery(to: sorted, reasons: &reasons)
    applyInterval(to: sorted, reasons: &reasons)
    applyUnreadable(to: sorted, reasons: &reasons)

    let decisions = sorted.indices.map { index in
      let keeping = reasons[index].filter(\.keeps)
      let summary = sorted[index]
      return keeping.isEmpty
        ? RetentionDecision(
          step: summary.step, path: summary.path, action: .delete, reasons: reasons[index])
        : RetentionDecision(step: summary.step, path: summary.path, action: .keep, reasons: keeping)
    }
    return RetentionPlan(
      decisions: decisions, newestStep: sorted[newest].step, bestStep: best.map { sorted[$0].step })
  }

  /// Returns the position of the current best in `sorted`, or `nil` when nothing ranks.
  func bestIndex(in sorted: [CheckpointSummary]) -> Int? {
    guard let objective = policy.bestBy else { return nil }
    let rankable = sorted.indices.filter { objective.rankableValue(in: sorted[$0].metrics) != nil }
    let values = rankable.map { sorted[$0].metrics[objective.metric]! }
    return objective.ranking(of: values, count: 1).first.map { rankable[$0] }
  }

  private func applyKeepLast(to sorted: [CheckpointSummary], reasons: inout [[RetentionReason]]) {
    guard let count = policy.keepLast else { return }
    for (offset, index) in sorted.indices.reversed().enumerated() {
      reasons[index].append(
        offset < count
          ? .amongNewest(rank: offset + 1, count: count) : .olderThanNewest(count: count))
    }
  }

  /// Applies `bestBy` and `keepBest`; returns the position of the current best.
  private func applyBest(to sorted: [CheckpointSummary], reasons: inout [[RetentionReason]]) -> Int?
  {
    guard let objective = policy.bestBy else { return nil }
    var rankable: [Int] = []
    for index in sorted.indices {
      let summary = sorted[index]
      if objective.rankableValue(in: summary.metrics) != nil {
        rankable.append(index)
      } else if policy.keepBest != nil, summary.hasReadableManifest {
        if let value = summary.metrics[objective.metric] {
          reasons[index].append(.metricNotFinite(metric: objective.metric, value: value))
        } else {
          reasons[index].append(.metricMissing(metric: objective.metric))
        }
      }
    }
    let values = rankable.map { sorted[$0].metrics[objective.metric]! }
    let ranking = objective.ranking(of: values, count: max(policy.keepBest ?? 1, 1))
    guard let first = ranking.first else { return nil }

    guard let count = policy.keepBest else {
      reasons[rankable[first]].append(.currentBest(metric: objective.metric, value: values[first]))
      return rankable[first]
    }
    var rank = [Int: Int]()
    for (offset, position) in ranking.enumerated() {
      rank[position] = offset + 1
    }
    for (position, index) in rankable.enumerated() {
      let value = values[position]
      if let place = rank[position] {
        reasons[index].append(
          .amongBest(rank: place, count: count, metric: objective.metric, value: value))
      } else {
        reasons[index].append(.belowBest(count: count, metric: objective.metric, value: value))
      }
    }
    return rankable[first]
  }

  private func applyKeepEvery(to sorted: [CheckpointSummary], reasons: inout [[RetentionReason]]) {
    guard let interval = policy.keepEvery else { return }
    for index in sorted.indices {
      reasons[index].append(
        sorted[index].step % interval == 0
          ? .stepMultiple(interval: interval) : .stepNotMultiple(interval: interval))
    }
  }

  private func applyInterval(to sorted: [CheckpointSummary], reasons: inout [[RetentionReason]]) {
    guard let seconds = policy.keepOnePerIntervalSeconds else { return }
    var firstOfInterval: [Double: Int] = [:]
    for index in sorted.indices {
      guard let wallTime = sorted[index].wallTime, wallTime.isFinite else { continue }
      let start = (wallTime / seconds).rounded(.down) * seconds
      if firstOfInterval[start] == nil {
        firstOfInterval[start] = index
        reasons[index].append(.firstInInterval(seconds: seconds, intervalStart: start))
      } else {
        reasons[index].append(.notFirstInInterval(seconds: seconds, intervalStart: start))
      }
    }
  }

  /// Notes, once per checkpoint, that the rules reading the manifest passed over it.
  private func applyUnreadable(to sorted: [CheckpointSummary], reasons: inout [[RetentionReason]]) {
    guard policy.keepBest != nil || policy.keepOnePerIntervalSeconds != nil else { return }
    for index in sorted.indices {
      if let problem = sorted[index].problem {
        reasons[index].append(.manifestUnreadable(problem: problem))
      }
    }
  }
}
