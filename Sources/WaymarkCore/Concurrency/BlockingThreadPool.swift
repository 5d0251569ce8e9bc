import CSystemShims
import Dispatch
import Foundation
import Synchronization

/// A fixed set of dedicated threads for blocking work: compression, hashing and file I/O.
///
/// Work submitted here never runs on Swift's cooperative thread pool, so a slow disk or a
/// long compression cannot starve other tasks. ``run(_:)`` bridges a job back to async code
/// through a continuation.
public final class BlockingThreadPool: Sendable {
  private struct State {
    var jobs: [@Sendable () -> Void] = []
    var head = 0
    var isShutDown = false
  }

  private let state = Mutex(State())
  private let available = DispatchSemaphore(value: 0)

  /// Number of threads that run jobs.
  public let threadCount: Int

  /// A pool with one thread per active processor and at least two.
  public static let shared = BlockingThreadPool(
    threadCount: max(2, ProcessInfo.processInfo.activeProcessorCount), name: "waymark.blocking")

  /// A scheduling priority for the pool's threads.
  public enum Priority: Sendable, Equatable {
    /// The process's own priority.
    case normal

    /// The lowest nice level (19) on Linux, the background band on Darwin: the threads still
    /// run when other threads want the cores, at a smaller share.
    case background

    /// `SCHED_IDLE` on Linux: the threads run only on cores that would otherwise be idle, so a
    /// training loop that keeps every core busy is not slowed, and the work waits instead.
    /// The background band on Darwin.
    case idle
  }

  /// Scheduling priority of the pool's threads.
  public let priority: Priority

  /// Starts `threadCount` threads named after `name`, running at `priority`.
  ///
  /// A lower priority keeps background checkpoint writes from slowing a training loop that
  /// shares the cores, at the cost of slower writes when the cores are busy. When the system
  /// refuses a change, the threads keep what they had reached: nice 19 without `SCHED_IDLE`,
  /// or the normal priority.
  public init(threadCount: Int, name: String = "waymark.blocking", priority: Priority = .normal) {
    precondition(threadCount > 0, "a blocking thread pool needs at least one thread")
    self.threadCount = threadCount
    self.priority = priority
    for index in 0..<threadCount {
      let thread = Thread { [self] in
        self.applyPriority()
        self.workLoop()
      }
      thread.name = "\(name).\(index)"
      thread.stackSize = 4 << 20
      thread.start()
    }
  }

  /// Runs `work` on a pool thread and returns its result to the awaiting task.
  ///
  /// The job starts even if the calling task is cancelled before a thread picks it up;
  /// jobs check cancellation themselves where it matters.
  public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
      submit {
        continuation.resume(with: Result { try work() })
      }
    }
  }

  /// Queues `job` to run on a pool thread without waiting for it.
  public func submit(_ job: @escaping @Sendable () -> Void) {
    let accepted = state.withLock { state -> Bool in
      guard !state.isShutDown else { return false }
      state.jobs.append(job)
      return true
    }
    precondition(accepted, "job submitted to a blocking thread pool after shutdown")
    available.signal()
  }

  /// Stops the threads after the jobs already queued have run.
  public func shutDown() {
    state.withLock { $0.isShutDown = true }
    for _ in 0..<threadCount { available.signal() }
  }

  private func applyPriority() {
    switch priority {
    case .normal: break
    case .background: _ = waymark_lower_thread_priority(19, 0)
    case .idle: _ = waymark_lower_thread_priority(19, 1)
    }
  }

  private func workLoop() {
    while true {
      available.wait()
      let next = state.withLock { state -> (@Sendable () -> Void)? in
        guard state.head < state.jobs.count else { return nil }
        let job = state.jobs[state.head]
        state.head += 1
        if state.head > 1024, state.head * 2 > state.jobs.count {
          state.jobs.removeFirst(state.head)
          state.head = 0
        }
        return job
      }
      guard let job = next else { return }
      job()
    }
  }
}
