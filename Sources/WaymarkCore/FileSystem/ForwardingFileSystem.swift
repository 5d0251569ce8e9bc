/// A file system that passes every operation to another one, for wrappers that change only a
/// few operations (a gate, a failure, a faked status) and forward the rest.
///
/// A conforming type provides ``base`` and implements just the operations it changes; the
/// extension forwards everything else.
public protocol ForwardingFileSystem: FileSystem {
  /// The file system that receives the operations this type does not implement itself.
  var base: any FileSystem { get }
}

extension ForwardingFileSystem {
  public func createDirectory(at path: String) throws {
    try base.createDirectory(at: path)
  }

  public func createFile(at path: String) throws -> FileDescriptor {
    try base.createFile(at: path)
  }

  public func openForReading(at path: String) throws -> FileDescriptor {
    try base.openForReading(at: path)
  }

  public func write(_ bytes: UnsafeRawBufferPointer, to file: FileDescriptor, at offset: Int64)
    throws
  {
    try base.write(bytes, to: file, at: offset)
  }

  public func read(
    into buffer: UnsafeMutableRawBufferPointer, from file: FileDescriptor, at offset: Int64
  )
    throws -> Int
  {
    try base.read(into: buffer, from: file, at: offset)
  }

  public func startWriteback(_ file: FileDescriptor, offset: Int64, byteCount: Int64) {
    base.startWriteback(file, offset: offset, byteCount: byteCount)
  }

  public func prefetch(_ file: FileDescriptor, offset: Int64, byteCount: Int64) {
    base.prefetch(file, offset: offset, byteCount: byteCount)
  }

  public func synchronize(_ file: FileDescriptor, path: String) throws {
    try base.synchronize(file, path: path)
  }

  public func close(_ file: FileDescriptor, path: String) throws {
    try base.close(file, path: path)
  }

  public func synchronizeDirectory(at path: String) throws {
    try base.synchronizeDirectory(at: path)
  }

  public func rename(from source: String, to destination: String) throws {
    try base.rename(from: source, to: destination)
  }

  public func removeFile(at path: String) throws {
    try base.removeFile(at: path)
  }

  public func removeDirectory(at path: String) throws {
    try base.removeDirectory(at: path)
  }

  public func contentsOfDirectory(at path: String) throws -> [DirectoryEntry] {
    try base.contentsOfDirectory(at: path)
  }

  public func status(at path: String) throws -> FileStatus {
    try base.status(at: path)
  }
}
