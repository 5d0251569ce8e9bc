import WaymarkCore

/// Applies metric lines one at a time, with the resume rule, to build a ``MetricHistory``.
struct MetricHistoryBuilder {
  private(set) var history = MetricHistory()
  /// Set after a marker without `fromStep`, until the next record gives the cut step.
  private var isAwaitingCut = false

  /// Parses and applies one line; an invalid line is counted and skipped.
  mutating func add(line: UnsafeRawBufferPointer) {
    guard case .object(let members)? = JSONParser.parse(line) else {
      history.skippedLineCount += 1
      return
    }
    if let marker = members["resume"] {
      guard case .object = marker else {
        history.skippedLineCount += 1
        return
      }
      applyResume(fromStep: marker["fromStep"]?.intValue.map(Int.init))
      return
    }
    guard let step = members["step"]?.intValue.map(Int.init),
      let wallTime = members["wallTime"]?.doubleValue,
      case .object(let values)? = members["values"]
    else {
      history.skippedLineCount += 1
      return
    }
    let epoch = members["epoch"]?.doubleValue
    var points: [(String, Double)] = []
    for (name, value) in values {
      guard let number = value.doubleValue else {
        history.skippedLineCount += 1
        return
      }
      points.append((name, number))
    }
    add(step: step, epoch: epoch, wallTime: wallTime, values: points)
  }

  /// Applies one record.
  mutating func add(step: Int, epoch: Double?, wallTime: Double, values: [(String, Double)]) {
    if isAwaitingCut {
      isAwaitingCut = false
      cut(atStep: step)
    }
    for (name, value) in values {
      history.series[name, default: []].append(
        MetricPoint(step: step, epoch: epoch, wallTime: wallTime, value: value))
    }
  }

  /// Applies a resume marker.
  mutating func applyResume(fromStep: Int?) {
    history.resumeCount += 1
    if let fromStep {
      isAwaitingCut = false
      cut(atStep: fromStep)
    } else {
      isAwaitingCut = true
    }
  }

  /// Drops every value at `step` or later.
  private mutating func cut(atStep step: Int) {
    for name in Array(history.series.keys) {
      history.series[name]?.removeAll { $0.step >= step }
      if history.series[name]?.isEmpty == true { history.series[name] = nil }
    }
  }
}
