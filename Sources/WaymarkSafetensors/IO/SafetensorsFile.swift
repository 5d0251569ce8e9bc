public import WaymarkCheckpoint
public import WaymarkCore

/// The contents of a safetensors file: named tensors and the `__metadata__` strings.
///
/// Read a file with ``init(contentsOfFile:fileSystem:)`` and write one with
/// ``write(to:replacingExisting:fileSystem:)``. Reading checks every rule that
/// ``SafetensorsHeader`` lists before it allocates memory for tensors, so a hostile file can
/// make the reader allocate at most its own length plus a bounded header.
///
/// ```swift
/// let file = try SafetensorsFile(contentsOfFile: "model.safetensors")
/// let weight = try file.tensors["layer1.weight"]?.scalars(as: Float.self)
/// ```
public struct SafetensorsFile: Sendable, Equatable {
  /// Tensors by name.
  public var tensors: [String: Tensor]

  /// The `__metadata__` strings; an empty map is not written.
  public var metadata: [String: String]

  /// Creates file contents from tensors and metadata.
  public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// Reads and validates the safetensors file at `path`.
  ///
  /// The final path component is opened without following a symbolic link. The call blocks
  /// until the whole file is read.
  ///
  /// - Parameters:
  ///   - path: The file to read.
  ///   - fileSystem: The file system to read through; default the real one.
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` naming the field that
  ///   breaks the format, `.notFound` when the file does not exist, `.invalidArgument` when
  ///   the path is a symbolic link or not a regular file, or `.io`.
  public init(contentsOfFile path: String, fileSystem: any FileSystem = PosixFileSystem()) throws {
    self = try Self.withOpenFile(at: path, fileSystem: fileSystem) { file in
      let header = try file.readHeader()
      return SafetensorsFile(tensors: try file.readTensors(of: header), metadata: header.metadata)
    }
  }

  /// Decodes and validates a whole safetensors file held in memory.
  ///
  /// - Parameters:
  ///   - bytes: The file's bytes.
  ///   - path: The file the bytes came from, named in errors; `nil` for bytes in memory.
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` naming the field that
  ///   breaks the format.
  public init(decoding bytes: [UInt8], path: String? = nil) throws {
    let source = InMemorySafetensorsSource(bytes: bytes, path: path)
    let header = try source.readHeader()
    self.init(tensors: try source.readTensors(of: header), metadata: header.metadata)
  }

  /// Opens the regular file at `path` without following a final symbolic link, calls `body`
  /// with it and closes it.
  ///
  /// - Throws: ``CheckpointError`` with code `.notFound`, `.invalidArgument` for a symbolic
  ///   link or a file that is not regular, `.io`, or what `body` throws.
  static func withOpenFile<Result>(
    at path: String, fileSystem: any FileSystem, _ body: (OpenSafetensorsFile) throws -> Result
  ) throws -> Result {
    let status: FileStatus
    let descriptor: FileDescriptor
    do {
      status = try fileSystem.status(at: path)
      try checkKind(status.kind, path: path)
      // NOTE: the length comes from lstat before the open, because FileSystem has no fstat.
      // If the file is replaced in between, reads still stop at this length and every short
      // read is an error, so memory stays bounded by the length seen here.
      descriptor = try fileSystem.openForReading(at: path)
    } catch let error as FileSystemError {
      throw SafetensorsIOFailure.error(error, reading: path)
    }
    defer { try? fileSystem.close(descriptor, path: path) }

    let file = OpenSafetensorsFile(
      fileSystem: fileSystem, descriptor: descriptor, byteCount: Int(status.byteCount),
      filePath: path)
    return try body(file)
  }

  private static func checkKind(_ kind: FileKind, path: String) throws {
    switch kind {
    case .regular:
      return
    case .symbolicLink:
      throw CheckpointError(
        .invalidArgument,
        "safetensors file '\(path)' is a symbolic link, which Waymark does not follow; pass the path of the file it points to",
        path: path)
    case .directory:
      throw CheckpointError(
        .invalidArgument,
        "'\(path)' is a directory, not a safetensors file; pass the path of a .safetensors file",
        path: path)
    case .other:
      throw CheckpointError(
        .invalidArgument, "'\(path)' is not a regular file; pass the path of a .safetensors file",
        path: path)
    }
  }
}
