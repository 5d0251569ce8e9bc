// A helper process for the crash tests in WaymarkCheckpointTests; not a user tool.
//
//   WaymarkCrashHelper save-loop STORE ELEMENT_COUNT CHUNK_BYTES
//     Opens STORE for writing, then saves steps newest+1, newest+2, … forever. Each state is
//     a pure function of its step (see `crashTestState`), so the test recomputes the bytes
//     a checkpoint must hold. After each commit is durable it prints `committed STEP` and a
//     newline in one unbuffered write. Retention keeps the last 3, every 25th step and the
//     best 2 by `loss`, so crashes also land in deletions.
//
//   WaymarkCrashHelper hold-lock STORE
//     Opens STORE for writing, prints `locked PID`, then sleeps until killed.
//
// Exit status 2 for bad arguments, 1 when opening or saving fails.

import WaymarkCheckpoint
import WaymarkCore
import WaymarkTestSupport

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes `line` and a newline to standard output in one `write` call.
func emit(_ line: String) {
  let bytes = Array((line + "\n").utf8)
  _ = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
}

func fail(_ message: String, status: Int32) -> Never {
  let bytes = Array(("WaymarkCrashHelper: " + message + "\n").utf8)
  _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
  exit(status)
}

func saveLoop(store: String, elementCount: Int, chunkByteCount: Int) async throws -> Never {
  var options = CheckpointManager.Options()
  options.chunkByteCount = chunkByteCount
  options.retention = RetentionPolicy(
    keepLast: 3, keepBest: 2, bestBy: MetricObjective(metric: "loss"), keepEvery: 25)
  let manager = try await CheckpointManager(directory: store, options: options)
  var step = (try await manager.store.committedCheckpoints().last?.step ?? 0) + 1
  while true {
    let (state, metrics) = try crashTestState(step: step, elementCount: elementCount)
    let ticket = try await manager.save(step: step, state: state, metrics: metrics)
    try await manager.waitForCommit(of: ticket)
    emit("committed \(step)")
    step += 1
  }
}

func holdLock(store: String) async throws -> Never {
  let manager = try await CheckpointManager(directory: store)
  emit("locked \(getpid())")
  while true {
    _ = manager.directory
    sleep(3600)
  }
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
  switch arguments.first {
  case "save-loop" where arguments.count == 4:
    guard let elementCount = Int(arguments[2]), elementCount > 0,
      let chunkByteCount = Int(arguments[3]), chunkByteCount > 0
    else {
      fail("ELEMENT_COUNT and CHUNK_BYTES must be positive integers", status: 2)
    }
    try await saveLoop(
      store: arguments[1], elementCount: elementCount, chunkByteCount: chunkByteCount)
  case "hold-lock" where arguments.count == 2:
    try await holdLock(store: arguments[1])
  default:
    fail(
      "usage: WaymarkCrashHelper save-loop STORE ELEMENT_COUNT CHUNK_BYTES | hold-lock STORE",
      status: 2)
  }
} catch {
  fail("\(error)", status: 1)
}
