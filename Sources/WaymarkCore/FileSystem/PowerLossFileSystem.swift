import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file system that simulates a power loss inside one directory tree: at a chosen call,
/// everything that no `fsync` made durable is thrown away.
///
/// Calls run on the real file system (`base`), and a model beside it records what a power
/// loss would keep. The model is the weakest one POSIX allows:
///
/// - A file's durable contents are its contents at the last ``synchronize(_:path:)`` of that
///   file. A file never fsynced comes back empty, and writes after the last fsync are lost.
/// - A directory's durable entries are its entries at the last ``synchronizeDirectory(at:)``
///   of that directory. Creating, renaming or removing a name is lost until the directory
///   that contains the name is fsynced, and a new directory comes back empty until it is fsynced
///   itself. An fsync of a file never makes its name durable.
/// - `rename` is atomic: after the loss, each directory contains either the old name or the new
///   one, as its last fsync saw it. A file renamed between two directories can come back
///   under both names when both were fsynced at different times.
/// - The root directory passed to ``init(root:base:)`` and the entries it held then are
///   durable. Paths outside the root pass through unmodelled for reads and are rejected with
///   `EXDEV` for changes.
///
/// When the armed call comes, it does not run. The simulator deletes everything under the
/// root, recreates the durable state from the model, and from then on rejects every call
/// but `close` with `EIO`, as a machine without power would. Entries that other code created
/// under the root without this interface, such as a store's lock file, are dropped. A test
/// then reopens the directory with ``PosixFileSystem`` as after a reboot, or calls
/// ``restorePower()`` to keep using the simulator.
///
/// The counted calls are the ones in ``FileOperation``. All calls run one at a time behind a
/// `Mutex`, so parallel writers are serialized and numbered in the order they arrive.
/// - Note: Real file systems often keep more than this model (ext4 in `data=ordered` mode
///   writes data before the metadata that names it), so a protocol that survives the model
///   survives them too; the reverse is not true.
public final class PowerLossFileSystem: FileSystem {
  /// The root of the simulated tree.
  public let root: String
  /// The file system that performs the calls.
  public let base: any FileSystem
  private let state: Mutex<Model>

  /// Starts simulating under `root`, an existing directory. Everything already there counts
  /// as durable.
  ///
  /// - Throws: ``FileSystemError`` when `root` cannot be read.
  public init(root: String, base: any FileSystem = PosixFileSystem()) throws {
    var trimmed = root
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    self.root = trimmed
    self.base = base
    state = Mutex(try Model.snapshot(of: trimmed, base: base))
  }

  /// Arms the power loss: the `operationNumber`-th counted call from now does not run, and
  /// the tree rolls back to its durable state instead. `nil` disarms.
  public func cutPower(atOperation operationNumber: Int?) {
    state.withLock { model in
      model.cutAt = operationNumber.map { model.operationCount + $0 }
    }
  }

  /// Loses power now: rolls the tree back to its durable state and rejects later calls.
  ///
  /// - Throws: ``FileSystemError`` when the real tree cannot be rewritten.
  public func cutPowerNow() throws {
    try state.withLock { model in
      guard !model.isPowerLost else { return }
      try model.rollBack(root: root, base: base)
    }
  }

  /// Takes the rolled-back tree as the new durable state and accepts calls again, as after
  /// a reboot.
  ///
  /// - Throws: ``FileSystemError`` when `root` cannot be read.
  public func restorePower() throws {
    let fresh = try Model.snapshot(of: root, base: base)
    state.withLock { $0 = fresh }
  }

  /// Whether the power loss has happened.
  public var isPowerLost: Bool {
    state.withLock { $0.isPowerLost }
  }

  /// Counted calls since the simulator started, the one that lost power included.
  public var operationCount: Int {
    state.withLock { $0.operationCount }
  }

  /// The counted call at which power was lost, once it was.
  public var powerLossOperation: FileOperationRecord? {
    state.withLock { $0.lossRecord }
  }

  // MARK: - Counted calls

  public func createDirectory(at path: String) throws {
    try change(.createDirectory, path) { model in
      let (parent, name) = try model.parentAndName(of: path, root: root)
      try base.createDirectory(at: path)
      model.addDirectory(named: name, to: parent)
    }
  }

  public func createFile(at path: String) throws -> FileDescriptor {
    try change(.createFile, path) { model in
      let (parent, name) = try model.parentAndName(of: path, root: root)
      let file = try base.createFile(at: path)
      model.addFile(named: name, to: parent, descriptor: file)
      return file
    }
  }

  public func write(_ bytes: UnsafeRawBufferPointer, to file: FileDescriptor, at offset: Int64)
    throws
  {
    try change(.write, "fd \(file.rawValue)") { _ in
      try base.write(bytes, to: file, at: offset)
    }
  }

  public func synchronize(_ file: FileDescriptor, path: String) throws {
    try change(.synchronize, path) { model in
      guard let node = model.descriptors[file.rawValue], model.node(at: path, root: root) == node
      else {
        // The model reads the file back by path to learn what the fsync made durable.
        throw FileSystemError(operation: "fsync", path: path, errno: EINVAL)
      }
      try base.synchronize(file, path: path)
      let contents = try base.readWholeFile(at: path, maxByteCount: Int.max)
      model.nodes[node] = .file(durableContents: contents)
    }
  }

  public func synchronizeDirectory(at path: String) throws {
    try change(.synchronizeDirectory, path) { model in
      guard let node = model.node(at: path, root: root),
        case .directory(let live, _) = model.nodes[node]
      else {
        throw FileSystemError(operation: "fsync", path: path, errno: ENOTDIR)
      }
      try base.synchronizeDirectory(at: path)
      model.nodes[node] = .directory(live: live, durable: live)
    }
  }

  public func rename(from source: String, to destination: String) throws {
    try change(.rename, "\(source) -> \(destination)") { model in
      let (sourceParent, sourceName) = try model.parentAndName(of: source, root: root)
      let (destinationParent, destinationName) = try model.parentAndName(
        of: destination, root: root)
      try base.rename(from: source, to: destination)
      guard let moved = model.removeEntry(named: sourceName, from: sourceParent) else { return }
      model.setEntry(named: destinationName, in: destinationParent, to: moved)
    }
  }

  public func removeFile(at path: String) throws {
    try change(.removeFile, path) { model in
      let (parent, name) = try model.parentAndName(of: path, root: root)
      try base.removeFile(at: path)
      _ = model.removeEntry(named: name, from: parent)
    }
  }

  public func removeDirectory(at path: String) throws {
    try change(.removeDirectory, path) { model in
      let (parent, name) = try model.parentAndName(of: path, root: root)
      try base.removeDirectory(at: path)
      _ = model.removeEntry(named: name, from: parent)
    }
  }

  // MARK: - Calls that change nothing

  public func openForReading(at path: String) throws -> FileDescriptor {
    try passThrough("open", path) { try base.openForReading(at: path) }
  }

  public func read(
    into buffer: UnsafeMutableRawBufferPointer, from file: FileDescriptor, at offset: Int64
  ) throws -> Int {
    try passThrough("pread", "fd \(file.rawValue)") {
      try base.read(into: buffer, from: file, at: offset)
    }
  }

  public func contentsOfDirectory(at path: String) throws -> [DirectoryEntry] {
    try passThrough("opendir", path) { try base.contentsOfDirectory(at: path) }
  }

  public func status(at path: String) throws -> FileStatus {
    try passThrough("lstat", path) { try base.status(at: path) }
  }

  /// Closes the real descriptor even after the power loss, so tests leak none.
  public func close(_ file: FileDescriptor, path: String) throws {
    let isPowerLost = state.withLock { model in
      model.descriptors[file.rawValue] = nil
      return model.isPowerLost
    }
    do {
      try base.close(file, path: path)
    } catch  where isPowerLost {
      return
    }
  }

  // MARK: - Plumbing

  /// Counts a mutating call, loses power when it is the armed one, or runs `body`.
  private func change<T: Sendable>(
    _ operation: FileOperation, _ path: String, _ body: (inout Model) throws -> T
  ) throws -> T {
    try state.withLock { model in
      guard !model.isPowerLost else {
        throw FileSystemError(operation: operation.rawValue, path: path, errno: EIO)
      }
      model.operationCount += 1
      if let cutAt = model.cutAt, model.operationCount >= cutAt {
        model.lossRecord = FileOperationRecord(
          number: model.operationCount, operation: operation, path: path)
        try model.rollBack(root: root, base: base)
        throw FileSystemError(operation: operation.rawValue, path: path, errno: EIO)
      }
      return try body(&model)
    }
  }

  /// Runs a call that changes nothing, or rejects it after the power loss.
  private func passThrough<T>(_ operation: String, _ path: String, _ body: () throws -> T) throws
    -> T
  {
    let isPowerLost = state.withLock { $0.isPowerLost }
    guard !isPowerLost else {
      throw FileSystemError(operation: operation, path: path, errno: EIO)
    }
    return try body()
  }
}

/// The state of every file and directory ever created in the simulated tree, by identity:
/// what is live now and what a power loss would keep.
private struct Model {
  /// One file or directory. Nodes are never removed, because a name removed since the last
  /// fsync of its directory comes back after a power loss.
  enum Node {
    case file(durableContents: [UInt8]?)
    case directory(live: [String: Int], durable: [String: Int])
  }

  static let rootNode = 0

  var nodes: [Node] = [.directory(live: [:], durable: [:])]
  var descriptors: [Int32: Int] = [:]
  var operationCount = 0
  var cutAt: Int?
  var isPowerLost = false
  var lossRecord: FileOperationRecord?

  /// Builds a model in which everything under `root` is durable as it is now.
  static func snapshot(of root: String, base: any FileSystem) throws -> Model {
    var model = Model()
    try model.addExisting(directory: rootNode, at: root, base: base)
    return model
  }

  private mutating func addExisting(directory: Int, at path: String, base: any FileSystem) throws {
    var entries: [String: Int] = [:]
    for entry in try base.contentsOfDirectory(at: path) {
      let childPath = path + "/" + entry.name
      switch entry.kind {
      case .directory:
        nodes.append(.directory(live: [:], durable: [:]))
        let child = nodes.count - 1
        try addExisting(directory: child, at: childPath, base: base)
        entries[entry.name] = child
      case .regular:
        let contents = try base.readWholeFile(at: childPath, maxByteCount: Int.max)
        nodes.append(.file(durableContents: contents))
        entries[entry.name] = nodes.count - 1
      case .symbolicLink, .other:
        // NOTE: links and special files are not modelled; a power loss drops them.
        continue
      }
    }
    nodes[directory] = .directory(live: entries, durable: entries)
  }

  /// Returns the path's components below `root`, or `nil` for a path outside it.
  static func components(of path: String, root: String) -> [String]? {
    guard path == root || path.hasPrefix(root == "/" ? "/" : root + "/") else { return nil }
    let relative = path.dropFirst(root.count)
    let parts = relative.split(separator: "/").map(String.init).filter { $0 != "." }
    return parts.contains("..") ? nil : parts
  }

  /// Returns the node at `path` in the live tree, or `nil` when there is none.
  func node(at path: String, root: String) -> Int? {
    guard let parts = Self.components(of: path, root: root) else { return nil }
    var current = Self.rootNode
    for part in parts {
      guard case .directory(let live, _) = nodes[current], let child = live[part] else {
        return nil
      }
      current = child
    }
    return current
  }

  /// Returns the live directory that contains `path` and the last component, or throws
  /// `EXDEV` for a path outside the root and `ENOENT` for a missing parent.
  func parentAndName(of path: String, root: String) throws -> (Int, String) {
    guard let parts = Self.components(of: path, root: root), let name = parts.last else {
      throw FileSystemError(operation: "simulate", path: path, errno: EXDEV)
    }
    let parentPath = root + "/" + parts.dropLast().joined(separator: "/")
    guard let parent = node(at: parentPath, root: root),
      case .directory = nodes[parent]
    else {
      throw FileSystemError(operation: "simulate", path: path, errno: ENOENT)
    }
    return (parent, name)
  }

  mutating func addDirectory(named name: String, to parent: Int) {
    nodes.append(.directory(live: [:], durable: [:]))
    setEntry(named: name, in: parent, to: nodes.count - 1)
  }

  mutating func addFile(named name: String, to parent: Int, descriptor: FileDescriptor) {
    nodes.append(.file(durableContents: nil))
    setEntry(named: name, in: parent, to: nodes.count - 1)
    descriptors[descriptor.rawValue] = nodes.count - 1
  }

  mutating func setEntry(named name: String, in directory: Int, to node: Int) {
    guard case .directory(var live, let durable) = nodes[directory] else { return }
    live[name] = node
    nodes[directory] = .directory(live: live, durable: durable)
  }

  mutating func removeEntry(named name: String, from directory: Int) -> Int? {
    guard case .directory(var live, let durable) = nodes[directory] else { return nil }
    let removed = live.removeValue(forKey: name)
    nodes[directory] = .directory(live: live, durable: durable)
    return removed
  }

  /// Replaces the real tree under `root` with the durable state and marks the power lost.
  mutating func rollBack(root: String, base: any FileSystem) throws {
    isPowerLost = true
    for entry in try base.contentsOfDirectory(at: root) {
      let path = root + "/" + entry.name
      if entry.kind == .directory {
        try base.removeTree(at: path)
      } else {
        try base.removeFile(at: path)
      }
    }
    try materialize(directory: Self.rootNode, at: root, base: base)
  }

  private func materialize(directory: Int, at path: String, base: any FileSystem) throws {
    guard case .directory(_, let durable) = nodes[directory] else { return }
    for (name, child) in durable.sorted(by: { $0.key < $1.key }) {
      let childPath = path + "/" + name
      switch nodes[child] {
      case .file(let contents):
        try base.writeNewFile(at: childPath, bytes: contents ?? [])
      case .directory:
        try base.createDirectory(at: childPath)
        try materialize(directory: child, at: childPath, base: base)
      }
    }
  }
}
