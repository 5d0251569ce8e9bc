import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file system that passes every call to another one and fails a chosen mutating call.
///
/// It counts the calls listed in ``FileOperation`` (create, write, fsync, directory fsync,
/// rename, unlink, mkdir, rmdir) from the moment a ``Fault`` is armed, and makes the k-th
/// matching call throw ``FileSystemError`` with the fault's `errno` instead of running it.
/// Tests walk k across a whole save to prove that every failure point leaves the store
/// consistent.
///
/// ```swift
/// let fileSystem = FaultInjectingFileSystem()
/// fileSystem.arm(.init(operationNumber: 3, errno: ENOSPC))
/// ```
///
/// Thread-safe: the counter, the fault and the log sit behind a `Mutex`, so calls from
/// several pool threads are numbered in the order they reach it.
public final class FaultInjectingFileSystem: FileSystem {
  /// The call to fail and the error it reports.
  public struct Fault: Sendable, Hashable {
    /// The matching call that fails, counted from 1 after the fault is armed.
    public var operationNumber: Int
    /// The `errno` the failing call reports, such as `EIO` or `ENOSPC`.
    public var errno: Int32
    /// Kinds of call that count toward `operationNumber`; the default counts every kind.
    public var operations: Set<FileOperation>
    /// Whether every matching call after the first failure fails too, as on a full disk.
    public var persists: Bool

    /// Creates a fault that fails matching call number `operationNumber` with `errno`.
    ///
    /// - Parameters:
    ///   - operationNumber: 1 fails the next matching call.
    ///   - errno: The error number to report, such as `EIO` or `ENOSPC`.
    ///   - operations: Kinds of call to count; default all of ``FileOperation``.
    ///   - persists: Keep failing after the first failure; default `false`.
    public init(
      operationNumber: Int, errno: Int32,
      operations: Set<FileOperation> = Set(FileOperation.allCases), persists: Bool = false
    ) {
      precondition(operationNumber >= 1, "operationNumber counts from 1")
      self.operationNumber = operationNumber
      self.errno = errno
      self.operations = operations
      self.persists = persists
    }
  }

  private struct State {
    var fault: Fault?
    var matchingCount = 0
    var totalCount = 0
    var log: [FileOperationRecord] = []
    var failures: [FileOperationRecord] = []
    var openPaths: [Int32: String] = [:]
  }

  /// The file system that runs the calls that do not fail.
  public let base: any FileSystem
  private let state = Mutex(State())

  /// Wraps `base`, with no fault armed.
  public init(wrapping base: any FileSystem = PosixFileSystem()) {
    self.base = base
  }

  /// Arms `fault`, counting from the next call, or disarms with `nil`.
  public func arm(_ fault: Fault?) {
    state.withLock { state in
      state.fault = fault
      state.matchingCount = 0
    }
  }

  /// Counted calls since this file system was created, failed ones included.
  public var operationCount: Int {
    state.withLock { $0.totalCount }
  }

  /// Every counted call since this file system was created, in order.
  public var operationLog: [FileOperationRecord] {
    state.withLock { $0.log }
  }

  /// The calls that were made to fail, in order.
  public var injectedFailures: [FileOperationRecord] {
    state.withLock { $0.failures }
  }

  /// Numbers the call and throws when the armed fault selects it.
  private func count(_ operation: FileOperation, _ path: String) throws {
    let failure = state.withLock { state -> FileSystemError? in
      state.totalCount += 1
      let record = FileOperationRecord(number: state.totalCount, operation: operation, path: path)
      state.log.append(record)
      guard let fault = state.fault, fault.operations.contains(operation) else { return nil }
      state.matchingCount += 1
      let selected =
        state.matchingCount == fault.operationNumber
        || (fault.persists && state.matchingCount > fault.operationNumber)
      guard selected else { return nil }
      state.failures.append(record)
      return FileSystemError(operation: operation.rawValue, path: path, errno: fault.errno)
    }
    if let failure { throw failure }
  }

  private func path(of file: FileDescriptor) -> String {
    state.withLock { $0.openPaths[file.rawValue] } ?? "fd \(file.rawValue)"
  }

  public func createDirectory(at path: String) throws {
    try count(.createDirectory, path)
    try base.createDirectory(at: path)
  }

  public func createFile(at path: String) throws -> FileDescriptor {
    try count(.createFile, path)
    let file = try base.createFile(at: path)
    state.withLock { $0.openPaths[file.rawValue] = path }
    return file
  }

  public func openForReading(at path: String) throws -> FileDescriptor {
    try base.openForReading(at: path)
  }

  public func write(_ bytes: UnsafeRawBufferPointer, to file: FileDescriptor, at offset: Int64)
    throws
  {
    try count(.write, path(of: file))
    try base.write(bytes, to: file, at: offset)
  }

  public func read(
    into buffer: UnsafeMutableRawBufferPointer, from file: FileDescriptor, at offset: Int64
  ) throws -> Int {
    try base.read(into: buffer, from: file, at: offset)
  }

  /// Passes the hint to the wrapped file system; it is not a counted operation because it
  /// changes nothing that a fault could break.
  public func startWriteback(_ file: FileDescriptor, offset: Int64, byteCount: Int64) {
    base.startWriteback(file, offset: offset, byteCount: byteCount)
  }

  public func synchronize(_ file: FileDescriptor, path: String) throws {
    try count(.synchronize, path)
    try base.synchronize(file, path: path)
  }

  public func close(_ file: FileDescriptor, path: String) throws {
    state.withLock { _ = $0.openPaths.removeValue(forKey: file.rawValue) }
    try base.close(file, path: path)
  }

  public func synchronizeDirectory(at path: String) throws {
    try count(.synchronizeDirectory, path)
    try base.synchronizeDirectory(at: path)
  }

  public func rename(from source: String, to destination: String) throws {
    try count(.rename, "\(source) -> \(destination)")
    try base.rename(from: source, to: destination)
  }

  public func removeFile(at path: String) throws {
    try count(.removeFile, path)
    try base.removeFile(at: path)
  }

  public func removeDirectory(at path: String) throws {
    try count(.removeDirectory, path)
    try base.removeDirectory(at: path)
  }

  public func contentsOfDirectory(at path: String) throws -> [DirectoryEntry] {
    try base.contentsOfDirectory(at: path)
  }

  public func status(at path: String) throws -> FileStatus {
    try base.status(at: path)
  }
}
