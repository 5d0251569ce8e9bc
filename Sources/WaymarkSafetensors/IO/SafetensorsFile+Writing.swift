import WaymarkCheckpoint
public import WaymarkCore

extension SafetensorsFile {
  /// Encodes the tensors and metadata into the bytes of a safetensors file.
  ///
  /// The layout matches the reference writer. Tensors are sorted by the reference's dtype
  /// order, widest first, then by name in UTF-8 byte order, so every tensor starts at a
  /// multiple of its element size. The JSON header is compact and padded with spaces to a
  /// multiple of 8 bytes. `__metadata__` comes first and is left out when empty.
  ///
  /// - Throws: ``CheckpointError`` with code `.invalidTensor` for a name that breaks the
  ///   rules in ``SafetensorsHeader`` or a `BOOL` element that is neither 0 nor 1, or
  ///   `.invalidArgument` when the header would exceed ``SafetensorsHeader/maxJSONByteCount``.
  public func encoded() throws -> [UInt8] {
    let plan = try SafetensorsWritePlan(tensors: tensors, metadata: metadata)
    var bytes = [UInt8]()
    bytes.reserveCapacity(plan.fileByteCount)
    bytes.append(contentsOf: plan.lengthPrefix)
    bytes.append(contentsOf: plan.json)
    for entry in plan.entries {
      entry.tensor.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
    return bytes
  }

  /// Writes the file to `path` atomically.
  ///
  /// The bytes go to a hidden temporary file in the same directory, which is fsynced,
  /// renamed to `path` and followed by an fsync of the directory. The call returns after the
  /// directory fsync, so the file survives a power loss from then on. On failure the
  /// temporary file is removed and `path` is unchanged.
  ///
  /// - Parameters:
  ///   - path: The file to create.
  ///   - replacingExisting: Whether to replace a file that already exists at `path`;
  ///     default `false`.
  ///   - fileSystem: The file system to write through; default the real one.
  /// - Throws: ``CheckpointError`` with code `.alreadyExists` when `path` exists and
  ///   `replacingExisting` is `false`, `.invalidTensor` or `.invalidArgument` as
  ///   ``encoded()`` does, or `.io`.
  /// - Note: The check for an existing file runs before the rename, so a file that another
  ///   process creates at `path` in between is replaced.
  public func write(
    to path: String, replacingExisting: Bool = false,
    fileSystem: any FileSystem = PosixFileSystem()
  ) throws {
    let (directory, fileName) = try Self.split(path)
    let plan = try SafetensorsWritePlan(tensors: tensors, metadata: metadata)
    if !replacingExisting {
      try Self.checkAbsent(path, fileSystem: fileSystem)
    }

    let random = String(UInt64.random(in: .min ... .max), radix: 16)
    let temporaryPath = "\(directory)/.\(fileName).tmp-\(random)"
    do {
      try Self.writeSynchronized(plan, to: temporaryPath, fileSystem: fileSystem)
    } catch let error as FileSystemError {
      try? fileSystem.removeFile(at: temporaryPath)
      throw SafetensorsIOFailure.error(error, writing: path)
    }

    do {
      if !replacingExisting {
        // NOTE: FileSystem has no rename that refuses to replace its destination, so this
        // second check narrows the window in which a concurrent writer's file is replaced.
        try Self.checkAbsent(path, fileSystem: fileSystem)
      }
      try fileSystem.rename(from: temporaryPath, to: path)
    } catch {
      try? fileSystem.removeFile(at: temporaryPath)
      if let error = error as? FileSystemError {
        throw SafetensorsIOFailure.error(error, writing: path)
      }
      throw error
    }

    do {
      try fileSystem.synchronizeDirectory(at: directory)
    } catch let error as FileSystemError {
      throw SafetensorsIOFailure.error(error, writing: path)
    }
  }

  /// Creates `path`, writes the planned bytes, fsyncs and closes it.
  private static func writeSynchronized(
    _ plan: SafetensorsWritePlan, to path: String, fileSystem: any FileSystem
  ) throws {
    let descriptor = try fileSystem.createFile(at: path)
    do {
      try plan.lengthPrefix.withUnsafeBytes { try fileSystem.write($0, to: descriptor, at: 0) }
      try plan.json.withUnsafeBytes {
        try fileSystem.write($0, to: descriptor, at: Int64(SafetensorsHeader.lengthPrefixByteCount))
      }
      for entry in plan.entries {
        let offset = Int64(plan.dataSectionOffset + entry.dataOffset)
        try entry.tensor.withUnsafeBytes { try fileSystem.write($0, to: descriptor, at: offset) }
      }
      try fileSystem.synchronize(descriptor, path: path)
    } catch {
      try? fileSystem.close(descriptor, path: path)
      throw error
    }
    try fileSystem.close(descriptor, path: path)
  }

  private static func checkAbsent(_ path: String, fileSystem: any FileSystem) throws {
    guard !fileSystem.exists(at: path) else {
      throw CheckpointError(
        .alreadyExists,
        "safetensors file '\(path)' already exists; choose another path, or pass replacingExisting: true to replace it",
        path: path)
    }
  }

  /// Returns the directory and the file name of `path`; the directory is `.` when `path`
  /// has no slash.
  static func split(_ path: String) throws -> (directory: String, fileName: String) {
    guard !path.isEmpty, !path.hasSuffix("/") else {
      throw CheckpointError(
        .invalidArgument,
        "safetensors path '\(path)' does not name a file; pass a path such as 'model.safetensors'",
        path: path)
    }
    guard let slash = path.lastIndex(of: "/") else {
      return (".", path)
    }
    let directory = slash == path.startIndex ? "/" : String(path[..<slash])
    return (directory, String(path[path.index(after: slash)...]))
  }
}
