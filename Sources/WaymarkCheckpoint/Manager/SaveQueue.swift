/// Behaviour of the manager when a save is requested while earlier saves are still being
/// written.
public enum Backpressure: Sendable, Hashable {
  /// Wait until the previous save is written, then start this one. The wait counts as stall.
  case wait
  /// Skip this save and record an event; the training loop never waits.
  case skip
  /// Queue the save while the captured states in the queue total at most `maxByteCount`
  /// bytes, and wait beyond that.
  case queue(maxByteCount: Int)
}

/// The order in which saves are written: one at a time, in request order.
///
/// A plain value: each method returns what the owner must do next, so the rules are tested
/// without I/O.
struct SaveQueue: Sendable {
  /// The decision for a new save request.
  enum Admission: Equatable {
    /// Nothing is being written: start writing this save now.
    case start
    /// Another save is being written: this one waits in the queue.
    case enqueued
    /// The caller must wait for the writer to make room, then ask again.
    case waitForRoom
    /// The save is dropped, for the reason given.
    case skip(reason: String)
  }

  private(set) var inFlight: Int?
  private(set) var queued: [(id: Int, byteCount: Int)] = []

  /// Total bytes of the states waiting in the queue, not counting the one being written.
  var queuedByteCount: Int {
    queued.reduce(0) { $0 + $1.byteCount }
  }

  /// Whether nothing is being written or waiting.
  var isIdle: Bool {
    inFlight == nil && queued.isEmpty
  }

  /// Decides what happens to save `id` holding `byteCount` bytes of state.
  mutating func admit(id: Int, byteCount: Int, backpressure: Backpressure) -> Admission {
    guard inFlight != nil else {
      precondition(queued.isEmpty, "saves are queued while nothing is being written")
      inFlight = id
      return .start
    }
    switch backpressure {
    case .wait:
      return .waitForRoom
    case .skip:
      return .skip(
        reason: "an earlier save is still being written and the backpressure policy is skip")
    case .queue(let maxByteCount):
      guard queuedByteCount + byteCount <= maxByteCount else { return .waitForRoom }
      queued.append((id, byteCount))
      return .enqueued
    }
  }

  /// Records that save `id` finished and returns the next save to start, if any.
  mutating func finish(id: Int) -> Int? {
    precondition(
      inFlight == id, "save \(id) finished but \(String(describing: inFlight)) was being written")
    guard !queued.isEmpty else {
      inFlight = nil
      return nil
    }
    let next = queued.removeFirst()
    inFlight = next.id
    return next.id
  }
}
