/// The live summaries of a run's metrics, kept by the writer thread as records arrive.
///
/// A resumed run starts from the history already on disk. Until the first record after the
/// resume shows where the repeated steps begin, that history is kept in full, because the
/// resume rule may still drop part of it (see ``MetricHistory``). The first record applies
/// the rule, and from then on the summaries grow one value at a time.
struct MetricSummaryState: Sendable {
  private var indexByName: [String: Int] = [:]
  private var names: [String] = []
  private var values: [MetricSummary] = []
  /// Index of the metric updated last. Training loops log metrics in a fixed order, so the
  /// next name is usually this one or the one after it, which skips the dictionary lookup.
  private var lastIndex = -1
  /// History before the resume, kept until the first record applies the resume rule.
  private var pendingResume: MetricHistoryBuilder?

  /// Summaries of a new run: empty.
  init() {}

  /// Summaries of a resumed run: `builder` contains the history read from disk, with the new
  /// resume marker already applied to it.
  init(resumingFrom builder: MetricHistoryBuilder, isCutKnown: Bool) {
    replaceAll(with: builder.history.summaries())
    pendingResume = isCutKnown ? nil : builder
  }

  /// Every metric's summary by name.
  var summaries: [String: MetricSummary] {
    Dictionary(uniqueKeysWithValues: zip(names, values))
  }

  /// Adds every value of `record`.
  mutating func add(_ record: MetricRecord) {
    let step = Int(record.step)
    if var builder = pendingResume {
      var pairs: [(String, Double)] = []
      record.forEachValue { name, value in pairs.append((name, value)) }
      builder.add(step: step, epoch: record.epoch, wallTime: record.wallTime, values: pairs)
      replaceAll(with: builder.history.summaries())
      pendingResume = nil
      return
    }
    record.forEachValue { name, value in
      add(value, step: step, name: name)
    }
  }

  private mutating func add(_ value: Double, step: Int, name: String) {
    let index: Int
    if lastIndex >= 0, names[lastIndex] == name {
      index = lastIndex
    } else if lastIndex + 1 < names.count, names[lastIndex + 1] == name {
      index = lastIndex + 1
    } else if let known = indexByName[name] {
      index = known
    } else {
      index = names.count
      indexByName[name] = index
      names.append(name)
      values.append(MetricSummary(value: value, step: step))
      lastIndex = index
      return
    }
    values[index].add(value, step: step)
    lastIndex = index
  }

  private mutating func replaceAll(with summaries: [String: MetricSummary]) {
    let sorted = summaries.sorted { $0.key < $1.key }
    names = sorted.map(\.key)
    values = sorted.map(\.value)
    indexByName = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    lastIndex = -1
  }
}
