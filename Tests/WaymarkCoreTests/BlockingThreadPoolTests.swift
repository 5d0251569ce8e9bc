import Foundation
import Testing
import WaymarkCore

@Suite("Blocking thread pool")
struct BlockingThreadPoolTests {
  /// Returns the nice level and scheduling policy of the calling thread, from
  /// `/proc/thread-self/stat` (fields 19 and 41).
  private static func schedulingOfCurrentThread() throws -> (nice: Int, policy: Int) {
    let text = try String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8)
    // The command name in field 2 may contain spaces, so fields are counted after its ')'.
    let afterName = text[text.index(after: text.lastIndex(of: ")")!)...]
    let fields = afterName.split(separator: " ")
    return (Int(fields[16])!, Int(fields[38])!)
  }

  @Test("jobs run and return their results")
  func runsJobs() async throws {
    let pool = BlockingThreadPool(threadCount: 2, name: "test.pool")
    defer { pool.shutDown() }
    let results = try await withThrowingTaskGroup(of: Int.self) { group in
      for value in 0..<100 {
        group.addTask { try await pool.run { value * 2 } }
      }
      return try await group.reduce(0, +)
    }
    #expect(results == 9_900)
  }

  #if os(Linux)
    @Test(
      "threads take the requested priority",
      arguments: [
        (BlockingThreadPool.Priority.normal, nil, 0), (.background, 19, 0), (.idle, 19, 5),
      ])
    func priority(priority: BlockingThreadPool.Priority, nice: Int?, policy: Int) async throws {
      let pool = BlockingThreadPool(threadCount: 1, name: "test.priority", priority: priority)
      defer { pool.shutDown() }
      let measured = try await pool.run { try Self.schedulingOfCurrentThread() }
      let caller = try Self.schedulingOfCurrentThread()
      #expect(measured.nice == nice ?? caller.nice)
      #expect(measured.policy == policy)
      #expect(caller.policy == 0)
    }
  #endif
}
