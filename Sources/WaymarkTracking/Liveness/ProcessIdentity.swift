#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// This process's id and host name, and a check whether another process exists.
enum ProcessIdentity {
  /// Id of this process.
  static var pid: Int32 { getpid() }

  /// Host name of this machine (`gethostname`), or `unknown-host` when it fails.
  static let hostName: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
    let name = String(
      decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "unknown-host" : name
  }()

  /// Returns whether a process with id `pid` exists on this host.
  ///
  /// `kill(pid, 0)` sends no signal but checks the process. `EPERM` means it exists but
  /// belongs to another user; only `ESRCH` means it is gone.
  @Sendable
  static func isProcessAlive(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }
    if kill(pid, 0) == 0 { return true }
    return errno != ESRCH
  }
}
