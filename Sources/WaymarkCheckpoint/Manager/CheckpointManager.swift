import Foundation
public import WaymarkCore

/// Saves training state in the background and loads it back.
///
/// `save` captures the state and returns; a background writer compresses, checksums and
/// writes chunks on a dedicated thread pool and commits the checkpoint by atomic rename.
/// Saves are written one at a time in request order. The manager holds the store's write
/// lock from `init` until ``close()``.
///
/// ```swift
/// let manager = try await CheckpointManager(directory: "runs/checkpoints")
/// let ticket = try await manager.save(step: 100, state: state, metrics: ["loss": 1.7])
/// let committed = try await manager.waitForCommit(of: ticket)
/// ```
public actor CheckpointManager {
  /// Settings of a manager.
  public struct Options: Sendable {
    /// Largest raw size of one chunk; default 4 MiB.
    public var chunkByteCount: Int = 4 << 20
    /// Largest tensor packed with others of its dtype into shared chunks, in bytes; default
    /// 64 KiB, and 0 gives every tensor chunks of its own. Packing removes a fixed cost per
    /// chunk that dominated checkpoints of thousands of small tensors. Checkpoints with packs
    /// are format version 2.
    public var maxPackedTensorByteCount: Int = 64 << 10
    /// Codec for chunks; default ``CodecPolicy/default``, byte lanes with zstd where it pays.
    public var codec: CodecPolicy = .default
    /// Behaviour of `save` while an earlier save is still being written; default `.wait`.
    public var backpressure: Backpressure = .wait
    /// Rules for the checkpoints kept after each commit; default keep all.
    public var retention: RetentionPolicy = .keepAll
    /// When ``saveIfDue(step:state:metrics:)`` saves; default no rule, for loops that call
    /// `save` themselves.
    public var savePolicy = SavePolicy()
    /// Chunks encoded at once; default one per pool thread.
    public var parallelism: Int?
    /// File operations of the writer, retention and recovery; tests inject faults here.
    public var fileSystem: any FileSystem = PosixFileSystem()
    /// Threads for compression, hashing and file I/O; default one per core at normal priority.
    /// A pool at ``BlockingThreadPool/Priority/background`` or
    /// ``BlockingThreadPool/Priority/idle`` slows a CPU-bound training loop less, and saves
    /// take longer while the loop keeps the cores busy.
    public var pool: BlockingThreadPool = .shared

    public init() {}
  }

  /// A handle on one requested save.
  public struct SaveTicket: Sendable, Hashable {
    /// Identifier, unique within this manager.
    public let id: Int
    /// Step of the save.
    public let step: Int64
    /// Seconds `save` held the caller, including any backpressure wait.
    public let stallSeconds: Double
    /// Reason the save was skipped, or `nil` when it was accepted.
    public let skipReason: String?

    /// Whether the save was accepted and will be written.
    public var isAccepted: Bool { skipReason == nil }
  }

  /// The store directory.
  public nonisolated let directory: String
  /// The settings the manager was opened with.
  public nonisolated let options: Options

  private let logger: Logger
  private let profiler: Profiler
  private let eventHandler: @Sendable (CheckpointEvent) -> Void
  private let lock: StoreLock
  private let writer: CheckpointWriter

  private var queue = SaveQueue()
  private var requests: [Int: CheckpointWriteRequest] = [:]
  private var results: [Int: Result<CommittedCheckpoint, CheckpointError>] = [:]
  private var commitWaiters: [Int: [CheckedContinuation<CommittedCheckpoint, any Error>]] = [:]
  private var roomWaiters: [CheckedContinuation<Void, Never>] = []
  private var unobservedFailures: [Int: CheckpointError] = [:]
  private var nextID = 0
  private var isClosed = false
  /// Checkpoint summaries retention has read, so each manifest is parsed once.
  private let summaryCache = CheckpointSummaryCache()
  private(set) public var statistics = SaveStatistics()
  /// The schedule of ``saveIfDue(step:state:metrics:)``, seeded from the store on first use.
  var saveScheduler: SaveScheduler?

  /// Opens the store at `directory` for writing: creates it if missing, takes its write lock
  /// and removes what an interrupted writer left behind.
  ///
  /// - Parameters:
  ///   - eventHandler: Receives every ``CheckpointEvent``; the run tracker records them.
  /// - Throws: ``CheckpointError`` with `.storeLocked` when another live process writes to
  ///   the store, `.io` when the directory cannot be created or cleaned, or
  ///   `.invalidArgument` when the retention or save policy is invalid.
  public init(
    directory: String, options: Options = Options(), logger: Logger = .silent,
    profiler: Profiler = .disabled,
    eventHandler: @escaping @Sendable (CheckpointEvent) -> Void = { _ in }
  ) async throws {
    try options.retention.validate()
    try options.savePolicy.validate()
    let fileSystem = options.fileSystem
    let lock = try await options.pool.run { () throws -> (StoreLock, [String]) in
      do {
        try StoreRecovery.createDirectories(directory, fileSystem: fileSystem)
      } catch let error as FileSystemError {
        throw CheckpointError(
          .io, "cannot create the checkpoint store '\(directory)'", path: directory,
          underlying: error)
      }
      return try StoreRecovery.lockAndRecover(directory, fileSystem: fileSystem)
    }
    self.directory = directory
    self.options = options
    self.logger = logger.with("checkpoint.store", directory)
    self.profiler = profiler
    self.eventHandler = eventHandler
    self.lock = lock.0
    self.writer = CheckpointWriter(
      storeDirectory: directory, fileSystem: fileSystem, pool: options.pool, profiler: profiler,
      chunkByteCount: max(64, options.chunkByteCount),
      maxPackedTensorByteCount: max(0, options.maxPackedTensorByteCount), codec: options.codec,
      parallelism: options.parallelism ?? options.pool.threadCount)

    if let previous = lock.0.previousOwner {
      self.logger.warning(
        "took over a store lock left by a process that is gone",
        metadata: ["lock.pid": "\(previous.pid)", "lock.host": previous.host])
      eventHandler(.lockTakenOver(previousPID: previous.pid, previousHost: previous.host))
    }
    if !lock.1.isEmpty {
      self.logger.info(
        "removed leftovers of interrupted saves",
        metadata: ["checkpoint.removed": lock.1.joined(separator: ",")])
      eventHandler(.leftoversRemoved(names: lock.1))
    }
  }

  /// Captures `state` for step `step` and returns once the background writer has it.
  ///
  /// The tensors are not copied: they share storage with the caller's arrays until the caller
  /// mutates one. With the default `.wait` backpressure, `save` waits while an earlier save is
  /// still being written; that wait is reported as stall in the ticket and statistics.
  ///
  /// - Parameters:
  ///   - step: Training step; must be zero or positive and differ from committed steps.
  ///   - state: Tensors and non-tensor state.
  ///   - metrics: Values recorded in the manifest, used by retention and `waymark ls`.
  /// - Returns: A ticket to pass to ``waitForCommit(of:)``.
  /// - Throws: ``CheckpointError`` with `.invalidArgument` or `.invalidTensor` for bad input,
  ///   `.cancelled` after ``close()``. A failure of the background write is reported by
  ///   ``waitForCommit(of:)``, the event handler and the logger, never by a later `save`.
  public func save(step: Int64, state: TrainingState, metrics: [String: Double] = [:]) async throws
    -> SaveTicket
  {
    let start = MonotonicClock.nanoseconds()
    try validate(step: step, state: state)
    let id = nextID
    nextID += 1
    statistics.requestedCount += 1
    requests[id] = CheckpointWriteRequest(
      step: step, state: state, metrics: metrics, wallTime: Date().timeIntervalSince1970)

    while true {
      switch queue.admit(id: id, byteCount: state.byteCount, backpressure: options.backpressure) {
      case .start:
        startWriting(id)
        return accepted(id: id, step: step, start: start)
      case .enqueued:
        return accepted(id: id, step: step, start: start)
      case .waitForRoom:
        await withCheckedContinuation { roomWaiters.append($0) }
        guard !isClosed else {
          requests[id] = nil
          throw CheckpointError(
            .cancelled, "the checkpoint manager was closed while save of step \(step) waited")
        }
      case .skip(let reason):
        requests[id] = nil
        statistics.skippedCount += 1
        let stall = seconds(since: start)
        statistics.stallSeconds.append(stall)
        logger.info(
          "skipped a save", metadata: ["checkpoint.step": "\(step)", "checkpoint.reason": reason])
        eventHandler(.saveSkipped(step: step, reason: reason))
        return SaveTicket(id: id, step: step, stallSeconds: stall, skipReason: reason)
      }
    }
  }

  private func validate(step: Int64, state: TrainingState) throws {
    guard !isClosed else {
      throw CheckpointError(
        .cancelled, "the checkpoint manager for '\(directory)' is closed; open a new one to save")
    }
    guard step >= 0 else {
      throw CheckpointError(
        .invalidArgument, "step \(step) is negative; steps are zero or positive")
    }
    for name in state.tensors.keys {
      try TensorName.validate(name)
    }
  }

  private func accepted(id: Int, step: Int64, start: UInt64) -> SaveTicket {
    let stall = seconds(since: start)
    statistics.stallSeconds.append(stall)
    eventHandler(.saveQueued(step: step, stallSeconds: stall))
    return SaveTicket(id: id, step: step, stallSeconds: stall, skipReason: nil)
  }

  private func startWriting(_ id: Int) {
    guard let request = requests[id] else { return }
    let writer = self.writer
    let profiler = self.profiler
    Task {
      let result: Result<CommittedCheckpoint, CheckpointError>
      do {
        let committed = try await profiler.measure("checkpoint.save", category: "checkpoint") {
          try await writer.write(request)
        }
        result = .success(committed)
      } catch let error as CheckpointError {
        result = .failure(error)
      } catch {
        result = .failure(
          CheckpointError(
            .io, "writing the checkpoint of step \(request.step) failed", path: directory,
            underlying: error))
      }
      await self.finishWriting(id, result: result)
    }
  }

  private func finishWriting(_ id: Int, result: Result<CommittedCheckpoint, CheckpointError>) async
  {
    let step = requests.removeValue(forKey: id)?.step ?? -1
    results[id] = result
    pruneResults()
    switch result {
    case .success(let committed):
      statistics.committedCount += 1
      statistics.writeSeconds.append(committed.writeSeconds)
      statistics.committedRawByteCount += committed.rawByteCount
      statistics.committedStoredByteCount += committed.storedByteCount
      logger.debug("committed a checkpoint", metadata: ["checkpoint.step": "\(committed.step)"])
      eventHandler(.committed(committed))
      await applyRetention()
    case .failure(let error):
      statistics.failedCount += 1
      if commitWaiters[id, default: []].isEmpty {
        unobservedFailures[id] = error
      }
      logger.error("a checkpoint save failed", metadata: ["checkpoint.error": "\(error)"])
      eventHandler(.saveFailed(step: step, error: error))
    }

    for waiter in commitWaiters.removeValue(forKey: id) ?? [] {
      waiter.resume(with: result.mapError { $0 as any Error })
    }
    if let next = queue.finish(id: id) {
      startWriting(next)
    }
    let waiting = roomWaiters
    roomWaiters.removeAll()
    for waiter in waiting { waiter.resume() }
  }

  /// Keeps the results of the newest 1,024 saves, so a run of millions of saves does not grow
  /// memory. Failures that no caller waited for stay in `unobservedFailures` until reported.
  private func pruneResults() {
    let keptCount = 1024
    guard results.count > keptCount * 2 else { return }
    let cutoff = nextID - keptCount
    results = results.filter { $0.key >= cutoff }
  }

  private func applyRetention() async {
    guard !options.retention.keepsEverything else { return }
    let executor = RetentionExecutor(
      directory: directory, policy: options.retention, fileSystem: options.fileSystem,
      pool: options.pool, profiler: profiler, summaryCache: summaryCache)
    do {
      for deletion in try await executor.apply() {
        logger.info("deleted a checkpoint", metadata: ["checkpoint.step": "\(deletion.step)"])
        eventHandler(.checkpointDeleted(step: deletion.step, reason: deletion.reason))
      }
    } catch {
      let wrapped =
        (error as? CheckpointError)
        ?? CheckpointError(.io, "retention failed", path: directory, underlying: error)
      logger.error("retention failed", metadata: ["checkpoint.error": "\(wrapped)"])
      eventHandler(.retentionFailed(error: wrapped))
    }
  }

  /// Waits until the save behind `ticket` is committed and durable.
  ///
  /// - Returns: The committed checkpoint; its directory and the store directory are fsynced.
  /// - Throws: The ``CheckpointError`` that made the save fail, or `.invalidArgument` for a
  ///   skipped save.
  @discardableResult
  public func waitForCommit(of ticket: SaveTicket) async throws -> CommittedCheckpoint {
    if let reason = ticket.skipReason {
      throw CheckpointError(
        .invalidArgument, "the save of step \(ticket.step) was skipped: \(reason)")
    }
    if let result = results[ticket.id] {
      unobservedFailures[ticket.id] = nil
      return try result.get()
    }
    if let failure = unobservedFailures.removeValue(forKey: ticket.id) {
      throw failure
    }
    guard ticket.id >= nextID - 1024 || requests[ticket.id] != nil else {
      throw CheckpointError(
        .invalidArgument,
        "the result of the save of step \(ticket.step) is no longer kept; wait for a save within 1,024 saves of requesting it"
      )
    }
    return try await withCheckedThrowingContinuation { continuation in
      commitWaiters[ticket.id, default: []].append(continuation)
    }
  }

  /// Waits until every accepted save is committed or failed.
  ///
  /// - Throws: The first failure that no ``waitForCommit(of:)`` call has reported yet.
  public func waitForAllSaves() async throws {
    while !queue.isIdle {
      await withCheckedContinuation { roomWaiters.append($0) }
    }
    if let (id, error) = unobservedFailures.min(by: { $0.key < $1.key }) {
      unobservedFailures[id] = nil
      throw error
    }
  }

  /// Whether saves are being written or waiting.
  public var hasPendingSaves: Bool {
    !queue.isIdle
  }

  /// Waits for pending saves, then releases the store lock. Later saves throw `.cancelled`.
  ///
  /// - Throws: The first save failure that was not reported yet.
  public func close() async throws {
    defer {
      isClosed = true
      lock.release()
    }
    try await waitForAllSaves()
  }

  /// Loads the checkpoint of `step` with every checksum checked.
  public func load(step: Int64) async throws -> LoadedCheckpoint {
    try await store.load(step: step)
  }

  /// Loads the newest checkpoint that loads cleanly, falling back past damaged ones and
  /// reporting each as a ``CheckpointEvent/checkpointSkipped(step:path:reason:)`` event.
  ///
  /// - Returns: The checkpoint, or `nil` when no checkpoint in the store loads.
  public func loadLatest() async throws -> LoadedCheckpoint? {
    let (checkpoint, skipped) = try await store.loadNewestValid()
    for skip in skipped {
      logger.warning(
        "skipped a damaged checkpoint while resuming",
        metadata: ["checkpoint.step": "\(skip.entry.step)", "checkpoint.reason": skip.reason])
      eventHandler(
        .checkpointSkipped(step: skip.entry.step, path: skip.entry.path, reason: skip.reason))
    }
    return checkpoint
  }

  /// Read access to the same store.
  public nonisolated var store: CheckpointStore {
    CheckpointStore(
      directory: directory, fileSystem: options.fileSystem, pool: options.pool, profiler: profiler)
  }

  private func seconds(since start: UInt64) -> Double {
    Double(MonotonicClock.nanoseconds() - start) / 1e9
  }
}
