import Foundation
import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The advisory write lock of a checkpoint store: `flock` on `.lock`, whose content names the
/// owner (pid, host, start time).
///
/// The kernel releases a `flock` when its process dies, so a lock left by a crashed writer is
/// free to take; the old owner's record stays in the file and is reported as taken over.
/// `@unchecked Sendable` is safe because the descriptor is only read after `init` and closed
/// once, in `release()` or `deinit`, guarded by `Mutex`.
final class StoreLock: @unchecked Sendable {
  /// The owner recorded in a lock file.
  struct Owner: Codable, Sendable, Equatable {
    var pid: Int32
    var host: String
    var since: Date
  }

  let path: String
  /// The previous owner's record, when a dead process left one behind.
  let previousOwner: Owner?
  private let descriptor: Int32
  private var isReleased = false

  /// Takes the lock of the store at `directory` or throws `.storeLocked` naming its owner.
  init(directory: String) throws {
    path = directory + "/" + CheckpointLayout.lockFileName
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else {
      throw CheckpointError(
        .io, "cannot open the store lock '\(path)'", path: directory,
        underlying: FileSystemError(operation: "open", path: path, errno: errno))
    }
    let previous = Self.readOwner(fd)
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      let code = errno
      _ = close(fd)
      guard code == EWOULDBLOCK else {
        throw CheckpointError(
          .io, "cannot lock '\(path)'", path: directory,
          underlying: FileSystemError(operation: "flock", path: path, errno: code))
      }
      let owner =
        previous.map { "pid \($0.pid) on host \($0.host) since \($0.since)" } ?? "another process"
      throw CheckpointError(
        .storeLocked,
        "checkpoint store '\(directory)' is locked for writing by \(owner); stop that process or use another directory (reading needs no lock)",
        path: directory)
    }
    descriptor = fd
    previousOwner = previous
    try writeOwner()
  }

  deinit {
    release()
  }

  /// Clears the owner record and releases the lock. Safe to call more than once.
  func release() {
    guard !isReleased else { return }
    isReleased = true
    _ = ftruncate(descriptor, 0)
    // Unlock explicitly: a child process forked or spawned meanwhile shares this open file
    // description until it calls exec or exits, and close alone would leave the lock held.
    _ = flock(descriptor, LOCK_UN)
    _ = close(descriptor)
  }

  private func writeOwner() throws {
    let owner = Owner(pid: getpid(), host: ProcessInfo.processInfo.hostName, since: Date())
    let bytes = Array(try JSONCoding.encoder().encode(owner)) + [0x0A]
    _ = ftruncate(descriptor, 0)
    let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    guard written == bytes.count, fsync(descriptor) == 0 else {
      throw CheckpointError(
        .io, "cannot record the owner in '\(path)'",
        underlying: FileSystemError(operation: "pwrite", path: path, errno: errno))
    }
  }

  private static func readOwner(_ fd: Int32) -> Owner? {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    guard count > 0 else { return nil }
    return try? JSONCoding.decoder().decode(Owner.self, from: Data(buffer[0..<count]))
  }
}
