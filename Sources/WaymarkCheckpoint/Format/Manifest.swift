public import WaymarkCore

/// The description of one checkpoint: what it contains and where every chunk lies.
///
/// `docs/FORMAT.md` specifies the JSON form. Field names here are the JSON keys.
public struct Manifest: Codable, Sendable, Equatable {
  /// The only format version this reader writes and understands.
  public static let currentFormatVersion = 1

  /// Format version; readers reject versions they do not know.
  public var formatVersion: Int

  /// Training step the checkpoint was taken at.
  public var step: Int64

  /// Seconds since 1970-01-01T00:00:00Z when `save` captured the state.
  public var wallTime: Double

  /// Metric values at save time; NaN and infinities are stored as strings.
  public var metrics: [String: Double]

  /// Non-tensor state.
  public var extraState: JSONValue

  /// Processes that wrote data files, one per rank.
  public var writers: [WriterEntry]

  /// Tensors, sorted by name.
  public var tensors: [TensorEntry]

  public init(
    formatVersion: Int = Manifest.currentFormatVersion, step: Int64, wallTime: Double,
    metrics: [String: Double], extraState: JSONValue, writers: [WriterEntry], tensors: [TensorEntry]
  ) {
    self.formatVersion = formatVersion
    self.step = step
    self.wallTime = wallTime
    self.metrics = metrics
    self.extraState = extraState
    self.writers = writers
    self.tensors = tensors
  }

  /// Total raw bytes of all tensors.
  public var rawByteCount: Int64 {
    tensors.reduce(0) { $0 + $1.byteCount }
  }

  /// Total stored bytes of all chunks.
  public var storedByteCount: Int64 {
    tensors.reduce(0) { total, tensor in
      total + tensor.chunks.reduce(0) { $0 + $1.storedByteCount }
    }
  }
}

/// One process that wrote part of a checkpoint.
public struct WriterEntry: Codable, Sendable, Equatable {
  /// Rank of the writer, from 0.
  public var rank: Int

  /// Number of writers that took part in the checkpoint.
  public var worldSize: Int

  /// Host name of the writer.
  public var host: String

  /// Data files the writer created, relative to the checkpoint directory.
  public var files: [String]

  public init(rank: Int, worldSize: Int, host: String, files: [String]) {
    self.rank = rank
    self.worldSize = worldSize
    self.host = host
    self.files = files
  }
}

/// One tensor in the manifest.
public struct TensorEntry: Codable, Sendable, Equatable {
  public var name: String
  public var dtype: DType
  public var shape: [Int]
  /// Raw bytes of the tensor: the product of the shape times the dtype's width.
  public var byteCount: Int64
  /// Chunks in order of `rawOffset`; together they cover the raw bytes exactly once.
  public var chunks: [ChunkEntry]

  public init(name: String, dtype: DType, shape: [Int], byteCount: Int64, chunks: [ChunkEntry]) {
    self.name = name
    self.dtype = dtype
    self.shape = shape
    self.byteCount = byteCount
    self.chunks = chunks
  }

  /// Total stored bytes of the tensor's chunks.
  public var storedByteCount: Int64 {
    chunks.reduce(0) { $0 + $1.storedByteCount }
  }
}

/// One independently compressed and checksummed piece of a tensor.
public struct ChunkEntry: Codable, Sendable, Equatable {
  /// Data file, relative to the checkpoint directory.
  public var file: String
  /// Byte offset of the stored bytes in `file`.
  public var offset: Int64
  /// Length of the stored bytes in `file`.
  public var storedByteCount: Int64
  /// Byte offset of this chunk's raw bytes within the tensor.
  public var rawOffset: Int64
  /// Length of the raw bytes after decoding.
  public var rawByteCount: Int64
  /// How the raw bytes were encoded.
  public var codec: ChunkCodec
  /// XXH3-64 of the stored bytes, as 16 lowercase hexadecimal digits.
  public var checksum: String

  public init(
    file: String, offset: Int64, storedByteCount: Int64, rawOffset: Int64, rawByteCount: Int64,
    codec: ChunkCodec, checksum: String
  ) {
    self.file = file
    self.offset = offset
    self.storedByteCount = storedByteCount
    self.rawOffset = rawOffset
    self.rawByteCount = rawByteCount
    self.codec = codec
    self.checksum = checksum
  }
}
