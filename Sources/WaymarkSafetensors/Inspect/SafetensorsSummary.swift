public import WaymarkCheckpoint
public import WaymarkCore

/// A description of a safetensors file for people and scripts: its layout, its tensors and
/// its metadata, without the tensors' values.
///
/// It encodes to JSON with the field names below, which `waymark inspect --json` prints.
public struct SafetensorsSummary: Codable, Sendable, Equatable {
  /// One tensor in the file.
  public struct Entry: Codable, Sendable, Equatable {
    /// Tensor name.
    public var name: String

    /// Element type, in Waymark's spelling such as `f32`.
    public var dtype: DType

    /// The dtype as the safetensors header spells it, such as `F32`.
    public var safetensorsDType: String

    /// Dimensions, outermost first.
    public var shape: [Int]

    /// Bytes of the elements.
    public var byteCount: Int

    /// Offset of the elements from the start of the file.
    public var fileOffset: Int

    public init(
      name: String, dtype: DType, safetensorsDType: String, shape: [Int], byteCount: Int,
      fileOffset: Int
    ) {
      self.name = name
      self.dtype = dtype
      self.safetensorsDType = safetensorsDType
      self.shape = shape
      self.byteCount = byteCount
      self.fileOffset = fileOffset
    }
  }

  /// The file summarized.
  public var path: String

  /// Bytes of the whole file.
  public var fileByteCount: Int

  /// Bytes of the JSON header, including its padding.
  public var headerByteCount: Int

  /// Bytes of the data section.
  public var dataByteCount: Int

  /// Tensors, sorted by name in UTF-8 byte order.
  public var tensors: [Entry]

  /// The `__metadata__` strings.
  public var metadata: [String: String]

  /// Creates a summary from a validated header.
  ///
  /// - Parameters:
  ///   - header: The header to describe.
  ///   - path: The file the header came from.
  public init(header: SafetensorsHeader, path: String) {
    self.path = path
    self.fileByteCount = header.fileByteCount
    self.headerByteCount = header.jsonByteCount
    self.dataByteCount = header.dataByteCount
    self.metadata = header.metadata
    self.tensors = header.tensors
      .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
      .map { info in
        Entry(
          name: info.name, dtype: info.dtype, safetensorsDType: info.dtype.safetensorsName,
          shape: info.shape, byteCount: info.byteCount,
          fileOffset: header.dataSectionOffset + info.dataOffsets.lowerBound)
      }
  }

  /// Reads and validates the header of the safetensors file at `path` and summarizes it.
  ///
  /// Only the length prefix and the header are read, never the tensors' bytes, so the call
  /// is fast for files of any size. The final path component is opened without following a
  /// symbolic link.
  ///
  /// - Parameters:
  ///   - path: The file to inspect.
  ///   - fileSystem: The file system to read through; default the real one.
  /// - Throws: ``CheckpointError`` as ``SafetensorsFile/init(contentsOfFile:fileSystem:)``
  ///   does.
  public init(inspectingFileAt path: String, fileSystem: any FileSystem = PosixFileSystem())
    throws
  {
    let header = try SafetensorsFile.withOpenFile(at: path, fileSystem: fileSystem) { file in
      try file.readHeader()
    }
    self.init(header: header, path: path)
  }

}
