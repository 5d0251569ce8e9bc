import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs a short child process, such as `git rev-parse HEAD`, and collects its output.
///
/// The call blocks, so callers run it on a ``BlockingThreadPool``. The child gets
/// `/dev/null` as standard input and its standard error is discarded. It is killed with
/// SIGKILL when it runs past the timeout.
enum ProcessRunner {
  /// Exit status and standard output of a finished child.
  struct Output: Sendable {
    /// Exit status, or `nil` when a signal ended the child or it timed out.
    var exitStatus: Int32?
    /// Standard output, cut at the byte limit the caller gave.
    var standardOutput: [UInt8]
    /// Bytes the child wrote to standard output, including any past the limit.
    var totalOutputByteCount: Int
    /// Whether the child was killed because it ran past the timeout.
    var timedOut: Bool

    /// Standard output as text without the trailing newline.
    var text: String {
      var text = String(decoding: standardOutput, as: UTF8.self)
      while text.last == "\n" || text.last == "\r" { text.removeLast() }
      return text
    }

    /// Whether the child exited with status 0.
    var succeeded: Bool { exitStatus == 0 }
  }

  /// Runs `executable` (looked up on `PATH`) with `arguments`.
  ///
  /// - Parameters:
  ///   - maxOutputByteCount: Bytes of standard output kept; the rest is read and dropped so
  ///     the child never blocks on a full pipe.
  ///   - timeoutSeconds: Time after which the child is killed.
  /// - Returns: `nil` when the process could not be started, for example because the
  ///   executable is not installed.
  static func run(
    _ executable: String, _ arguments: [String], maxOutputByteCount: Int = 1 << 20,
    timeoutSeconds: Double = 10
  ) -> Output? {
    var pipeDescriptors: [Int32] = [0, 0]
    guard pipe(&pipeDescriptors) == 0 else { return nil }
    let readEnd = pipeDescriptors[0]
    let writeEnd = pipeDescriptors[1]
    _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)

    guard let pid = spawn(executable, arguments, standardOutput: writeEnd) else {
      _ = close(readEnd)
      _ = close(writeEnd)
      return nil
    }
    _ = close(writeEnd)
    defer { _ = close(readEnd) }

    let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, timeoutSeconds) * 1e9)
    var output: [UInt8] = []
    var totalByteCount = 0
    var timedOut = false
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let now = MonotonicClock.nanoseconds()
      if now >= deadline {
        timedOut = true
        _ = kill(pid, SIGKILL)
        break
      }
      var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
      let waitMilliseconds = Int32(min(1000, (deadline - now) / 1_000_000 + 1))
      let ready = poll(&descriptor, 1, waitMilliseconds)
      if ready < 0, errno == EINTR { continue }
      if ready <= 0 { continue }
      let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR || errno == EAGAIN { continue }
      if count <= 0 { break }
      totalByteCount += count
      let kept = min(count, maxOutputByteCount - output.count)
      if kept > 0 { output.append(contentsOf: buffer[0..<kept]) }
    }

    // The child may keep running after closing its output, so waiting honours the deadline.
    var status: Int32 = 0
    while true {
      let result = waitpid(pid, &status, timedOut ? 0 : WNOHANG)
      if result == pid { break }
      if result < 0 {
        if errno == EINTR { continue }
        break
      }
      if MonotonicClock.nanoseconds() >= deadline {
        timedOut = true
        _ = kill(pid, SIGKILL)
      } else {
        usleep(1000)
      }
    }
    let exitStatus: Int32? = (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
    return Output(
      exitStatus: timedOut ? nil : exitStatus, standardOutput: output,
      totalOutputByteCount: totalByteCount, timedOut: timedOut)
  }

  /// Starts the child with `posix_spawnp`, its standard output on `standardOutput`.
  private static func spawn(_ executable: String, _ arguments: [String], standardOutput: Int32)
    -> pid_t?
  {
    #if canImport(Darwin)
      var actions: posix_spawn_file_actions_t? = nil
    #else
      var actions = posix_spawn_file_actions_t()
    #endif
    guard posix_spawn_file_actions_init(&actions) == 0 else { return nil }
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addclose(&actions, standardOutput)

    let argv = ([executable] + arguments).map { strdup($0) }
    defer {
      for argument in argv { free(argument) }
    }
    var pid = pid_t()
    let result = (argv + [nil]).withUnsafeBufferPointer { pointers in
      posix_spawnp(&pid, executable, &actions, nil, pointers.baseAddress!, environ)
    }
    return result == 0 ? pid : nil
  }
}
