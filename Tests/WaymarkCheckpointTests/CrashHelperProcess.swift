import Foundation
import Synchronization
import Testing
import WaymarkCheckpoint
import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A running product of this package, by default `WaymarkCrashHelper`, with its standard
/// output on a pipe.
struct CrashHelperProcess {
  let pid: pid_t
  private let output: Int32

  /// Starts the executable product `product` with `arguments`; with
  /// `capturingStandardError`, standard error goes to the same pipe as standard output.
  static func start(
    _ arguments: [String], product: String = "WaymarkCrashHelper",
    capturingStandardError: Bool = false
  ) throws -> CrashHelperProcess {
    let executable = try locateProduct(product)
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    // The read end must not leak into helpers that parallel tests start.
    _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)

    #if canImport(Glibc)
      var actions = posix_spawn_file_actions_t()
    #else
      var actions: posix_spawn_file_actions_t?
    #endif
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], STDOUT_FILENO)
    if capturingStandardError {
      posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], STDERR_FILENO)
    }

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer {
      for argument in argv { free(argument) }
    }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    _ = close(pipeEnds[1])
    guard status == 0 else {
      _ = close(pipeEnds[0])
      throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EIO)
    }
    return CrashHelperProcess(pid: pid, output: pipeEnds[0])
  }

  /// Sends SIGKILL and waits for the process to end.
  ///
  /// - Returns: Whether SIGKILL ended it; `false` means it had exited on its own first.
  @discardableResult
  func kill() -> Bool {
    _ = sendSignal(pid, SIGKILL)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    // WIFSIGNALED and WTERMSIG, written out because the C macros are not imported.
    let signal = status & 0x7F
    return signal == SIGKILL
  }

  /// Reads standard output to the end, then waits for the process to exit.
  ///
  /// - Returns: The output and the exit status, or 128 plus the signal that ended it.
  func waitForExit() -> (output: String, status: Int32) {
    let text = readAll()
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    // WIFEXITED, WEXITSTATUS and WTERMSIG, written out because the C macros are not imported.
    let signal = status & 0x7F
    return (text, signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
  }

  /// Reads standard output to the end; call after the process ended.
  func readAll() -> String {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { break }
      bytes += buffer[0..<count]
    }
    _ = close(output)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Reads one line, waiting at most `timeoutSeconds`; `nil` on timeout or end of output.
  func readLine(timeoutSeconds: Double = 30) -> String? {
    var line: [UInt8] = []
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
      var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
      let ready = poll(&descriptor, 1, 100)
      guard ready > 0 else { continue }
      var byte: UInt8 = 0
      let count = read(output, &byte, 1)
      guard count == 1 else { return nil }
      if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
      line.append(byte)
    }
    return nil
  }

  /// Finds the built product next to the test bundle, or builds it.
  ///
  /// `swift build` and `swift test` put every product of the package in one directory
  /// (`.build/debug` or the `--scratch-path` equivalent), so the product sits next to the
  /// test bundle. `WAYMARK_CRASH_HELPER` overrides the helper's path. When the product is
  /// missing, for example because an IDE built only the tests, it is built with
  /// `swift build --product NAME` into its own scratch directory.
  static func locateProduct(_ product: String) throws -> String {
    if product == "WaymarkCrashHelper",
      let path = ProcessInfo.processInfo.environment["WAYMARK_CRASH_HELPER"]
    {
      return path
    }
    let productDirectories = [
      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
      Bundle.main.bundleURL.deletingLastPathComponent(),
      Bundle.main.bundleURL,
    ]
    for directory in productDirectories {
      let candidate = directory.appendingPathComponent(product).path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return try ProductBuild.shared.path(of: product)
  }
}

/// Builds a product at most once per test process when no built copy is found.
final class ProductBuild: Sendable {
  static let shared = ProductBuild()
  private let results = Mutex<[String: Result<String, any Error>]>([:])

  func path(of product: String) throws -> String {
    try results.withLock { results in
      if let result = results[product] { return try result.get() }
      let built = Result { try Self.build(product) }
      results[product] = built
      return try built.get()
    }
  }

  private static func build(_ product: String) throws -> String {
    // The package root is three levels above this file: Tests/WaymarkCheckpointTests/….
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().path
    let scratch = packageRoot + "/.build/crash-helper"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "swift", "build", "--package-path", packageRoot, "--scratch-path", scratch, "--product",
      product,
    ]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw CheckpointError(
        .notFound,
        "building \(product) failed with status \(process.terminationStatus); run 'swift build --product \(product)'"
      )
    }
    return scratch + "/debug/" + product
  }
}

/// `kill(2)`, renamed so it does not clash with ``CrashHelperProcess/kill()``.
private func sendSignal(_ pid: pid_t, _ signal: Int32) -> Int32 {
  #if canImport(Glibc)
    Glibc.kill(pid, signal)
  #else
    Darwin.kill(pid, signal)
  #endif
}
