import Foundation
import Synchronization
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file system that blocks every save at the creation of its temporary directory until
/// ``open()``, so a test controls how long a save stays in flight.
final class GatedFileSystem: ForwardingFileSystem {
  let base: any FileSystem = PosixFileSystem()
  private let isOpen = Atomic<Bool>(false)
  private let arrivals = Atomic<Int>(0)

  /// Lets every held and later save through.
  func open() {
    isOpen.store(true, ordering: .sequentiallyConsistent)
  }

  /// Waits until `count` saves have reached the gate, or fails after 60 seconds.
  func waitForArrivals(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws
  {
    let deadline = Date().addingTimeInterval(60)
    while arrivals.load(ordering: .sequentiallyConsistent) < count {
      guard Date() < deadline else {
        Issue.record("no save reached the gate within 60 s", sourceLocation: sourceLocation)
        open()
        return
      }
      try await Task.sleep(nanoseconds: 1_000_000)
    }
  }

  func createDirectory(at path: String) throws {
    if path.contains("/" + CheckpointLayout.temporaryPrefix) {
      arrivals.add(1, ordering: .sequentiallyConsistent)
      // Polling keeps the gate simple; it blocks a thread of the test's own pool.
      while !isOpen.load(ordering: .sequentiallyConsistent) { usleep(1000) }
    }
    try base.createDirectory(at: path)
  }

}

@Suite("Backpressure")
struct BackpressureTests {
  /// The time a test keeps the first save in flight.
  static let holdNanoseconds: UInt64 = 300_000_000
  static let holdSeconds = 0.3

  static func withGatedManager(
    _ backpressure: Backpressure, savePolicy: SavePolicy = SavePolicy(),
    _ body: (CheckpointManager, GatedFileSystem, EventRecorder) async throws -> Void
  ) async throws {
    try await withTemporaryDirectory { directory in
      let gate = GatedFileSystem()
      let events = EventRecorder()
      let pool = BlockingThreadPool(threadCount: 2, name: "waymark.test.backpressure")
      defer { pool.shutDown() }
      var options = CheckpointManager.Options()
      options.fileSystem = gate
      options.pool = pool
      options.backpressure = backpressure
      options.savePolicy = savePolicy
      let manager = try await CheckpointManager(
        directory: directory, options: options, eventHandler: events.handler)
      do {
        try await body(manager, gate, events)
      } catch {
        gate.open()
        try? await manager.close()
        throw error
      }
      try await manager.close()
    }
  }

  /// Waits until `count` saves have entered `save`, so a stall measured from here on is
  /// part of the last one's stall.
  static func waitForRequests(_ count: Int, on manager: CheckpointManager) async throws {
    while await manager.statistics.requestedCount < count {
      try await Task.sleep(nanoseconds: 1_000_000)
    }
  }

  static func queuedSteps(_ events: EventRecorder) -> [Int64] {
    events.all.compactMap { event in
      if case .saveQueued(let step, _) = event { return step }
      return nil
    }
  }

  @Test("wait holds the caller and reports the stall")
  func waitMode() async throws {
    try await Self.withGatedManager(.wait) { manager, gate, events in
      let first = try await manager.save(step: 1, state: SampleStates.state(step: 1))
      #expect(first.isAccepted)
      try await gate.waitForArrivals(1)

      let second = Task { try await manager.save(step: 2, state: SampleStates.state(step: 2)) }
      try await Self.waitForRequests(2, on: manager)
      try await Task.sleep(nanoseconds: Self.holdNanoseconds)
      #expect(Self.queuedSteps(events) == [1], "the second save must still wait")
      gate.open()
      let ticket = try await second.value

      #expect(ticket.isAccepted)
      #expect(ticket.stallSeconds >= Self.holdSeconds)
      try await manager.waitForAllSaves()
      let statistics = await manager.statistics
      #expect(statistics.stallSeconds.count == 2)
      #expect(statistics.stallSeconds.last == ticket.stallSeconds)
      #expect(statistics.skippedCount == 0)
      let reported = events.all.compactMap { event -> Double? in
        if case .saveQueued(2, let stall) = event { return stall }
        return nil
      }
      #expect(reported == [ticket.stallSeconds])
      #expect(try await manager.store.committedCheckpoints().map(\.step) == [1, 2])
    }
  }

  @Test("skip drops the save and logs an event")
  func skipMode() async throws {
    try await Self.withGatedManager(.skip) { manager, gate, events in
      _ = try await manager.save(step: 1, state: SampleStates.state(step: 1))
      try await gate.waitForArrivals(1)

      let second = try await manager.save(step: 2, state: SampleStates.state(step: 2))
      #expect(!second.isAccepted)
      #expect(second.skipReason?.contains("still being written") == true)
      let skipped = events.all.compactMap { event -> Int64? in
        if case .saveSkipped(let step, _) = event { return step }
        return nil
      }
      #expect(skipped == [2])
      let error = await #expect(throws: CheckpointError.self) {
        try await manager.waitForCommit(of: second)
      }
      #expect(error?.code == .invalidArgument)

      gate.open()
      try await manager.waitForAllSaves()
      let statistics = await manager.statistics
      #expect(statistics.skippedCount == 1)
      #expect(statistics.committedCount == 1)
      #expect(statistics.stallSeconds.count == 2)
      #expect(try await manager.store.committedCheckpoints().map(\.step) == [1])
    }
  }

  @Test("queue accepts up to the budget, then waits")
  func queueMode() async throws {
    let stateByteCount = try SampleStates.state(step: 1).byteCount
    try await Self.withGatedManager(.queue(maxByteCount: 2 * stateByteCount)) {
      manager, gate, events in
      _ = try await manager.save(step: 1, state: SampleStates.state(step: 1))
      try await gate.waitForArrivals(1)
      let second = try await manager.save(step: 2, state: SampleStates.state(step: 2))
      let third = try await manager.save(step: 3, state: SampleStates.state(step: 3))
      #expect(second.isAccepted)
      #expect(third.isAccepted)

      let fourth = Task { try await manager.save(step: 4, state: SampleStates.state(step: 4)) }
      try await Self.waitForRequests(4, on: manager)
      try await Task.sleep(nanoseconds: Self.holdNanoseconds)
      #expect(Self.queuedSteps(events) == [1, 2, 3], "the fourth save would exceed the budget")
      gate.open()
      let ticket = try await fourth.value

      #expect(ticket.isAccepted)
      #expect(ticket.stallSeconds >= Self.holdSeconds)
      try await manager.waitForAllSaves()
      #expect(try await manager.store.committedCheckpoints().map(\.step) == [1, 2, 3, 4])
      #expect(await manager.statistics.stallSeconds.count == 4)
    }
  }

  @Test("queue with a state over the budget waits until idle")
  func queueOversizedState() async throws {
    try await Self.withGatedManager(.queue(maxByteCount: 100)) { manager, gate, events in
      _ = try await manager.save(step: 1, state: SampleStates.state(step: 1))
      try await gate.waitForArrivals(1)
      let second = Task { try await manager.save(step: 2, state: SampleStates.state(step: 2)) }
      try await Self.waitForRequests(2, on: manager)
      try await Task.sleep(nanoseconds: Self.holdNanoseconds)
      #expect(Self.queuedSteps(events) == [1])
      gate.open()
      #expect(try await second.value.isAccepted)
      try await manager.waitForAllSaves()
      #expect(try await manager.store.committedCheckpoints().map(\.step) == [1, 2])
    }
  }

  @Test("save queue never holds more than the budget", arguments: [0, 1, 2, 3])
  func queueBound(seed: UInt64) {
    var random = SplitMix64(state: seed)
    let budget = 10_000
    var queue = SaveQueue()
    var nextID = 0
    var waiting: [(id: Int, byteCount: Int)] = []
    for _ in 0..<5_000 {
      if random.next() % 3 != 0 || queue.inFlight == nil {
        let request = waiting.popLast() ?? (nextID, Int(random.next() % 6_000))
        if request.id == nextID { nextID += 1 }
        let queuedBefore = queue.queuedByteCount
        switch queue.admit(
          id: request.id, byteCount: request.byteCount, backpressure: .queue(maxByteCount: budget))
        {
        case .start:
          #expect(queuedBefore == 0)
        case .enqueued:
          #expect(queuedBefore + request.byteCount <= budget)
        case .waitForRoom:
          #expect(queuedBefore + request.byteCount > budget)
          waiting.append(request)
        case .skip:
          Issue.record("queue backpressure never skips")
        }
        #expect(queue.queuedByteCount <= budget)
      } else if let inFlight = queue.inFlight {
        _ = queue.finish(id: inFlight)
        #expect(queue.queuedByteCount <= budget)
      }
    }
  }

  @Test("wait and skip admit nothing while a save is in flight")
  func waitAndSkipAdmission() {
    var queue = SaveQueue()
    #expect(queue.admit(id: 0, byteCount: 10, backpressure: .wait) == .start)
    #expect(queue.admit(id: 1, byteCount: 10, backpressure: .wait) == .waitForRoom)
    if case .skip = queue.admit(id: 1, byteCount: 10, backpressure: .skip) {
    } else {
      Issue.record("skip backpressure must skip while a save is in flight")
    }
    #expect(queue.queuedByteCount == 0)
    #expect(queue.finish(id: 0) == nil)
    #expect(queue.isIdle)
    #expect(queue.admit(id: 1, byteCount: 10, backpressure: .skip) == .start)
  }
}
