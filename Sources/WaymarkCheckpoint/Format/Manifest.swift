public import WaymarkCore

/// The description of one checkpoint: what it contains and where every chunk lies.
///
/// `docs/FORMAT.md` specifies the JSON form. Field names here are the JSON keys.
public struct Manifest: Codable, Sendable, Equatable {
  /// The newest format version: this writer uses it for checkpoints with packs.
  public static let currentFormatVersion = 2

  /// The versions this reader understands. Version 1 has no packs, so the writer still uses
  /// it for checkpoints without them, and older readers load those.
  public static let supportedFormatVersions = 1...2

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

  /// Chunks shared by several small tensors of one dtype, whose raw bytes lie one after
  /// another in the pack's raw bytes. Each has `rawOffset` 0. Empty in version 1.
  public var packs: [ChunkEntry]

  public init(
    formatVersion: Int = Manifest.currentFormatVersion, step: Int64, wallTime: Double,
    metrics: [String: Double], extraState: JSONValue, writers: [WriterEntry],
    tensors: [TensorEntry],
    packs: [ChunkEntry] = []
  ) {
    self.formatVersion = formatVersion
    self.step = step
    self.wallTime = wallTime
    self.metrics = metrics
    self.extraState = extraState
    self.writers = writers
    self.tensors = tensors
    self.packs = packs
  }

  enum CodingKeys: String, CodingKey {
    case formatVersion, step, wallTime, metrics, extraState, writers, tensors, packs
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    formatVersion = try container.decode(Int.self, forKey: .formatVersion)
    step = try container.decode(Int64.self, forKey: .step)
    wallTime = try container.decode(Double.self, forKey: .wallTime)
    metrics = try container.decode([String: Double].self, forKey: .metrics)
    extraState = try container.decode(JSONValue.self, forKey: .extraState)
    writers = try container.decode([WriterEntry].self, forKey: .writers)
    tensors = try container.decode([TensorEntry].self, forKey: .tensors)
    // Absent means no packs; `null` is not an array and is rejected like any other type.
    packs =
      container.contains(.packs) ? try container.decode([ChunkEntry].self, forKey: .packs) : []
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(formatVersion, forKey: .formatVersion)
    try container.encode(step, forKey: .step)
    try container.encode(wallTime, forKey: .wallTime)
    try container.encode(metrics, forKey: .metrics)
    try container.encode(extraState, forKey: .extraState)
    try container.encode(writers, forKey: .writers)
    try container.encode(tensors, forKey: .tensors)
    // A version 1 manifest has no `packs` key.
    if !packs.isEmpty { try container.encode(packs, forKey: .packs) }
  }

  /// Total raw bytes of all tensors.
  public var rawByteCount: Int64 {
    tensors.reduce(0) { $0 + $1.byteCount }
  }

  /// Total stored bytes of all chunks and packs.
  public var storedByteCount: Int64 {
    tensors.reduce(0) { $0 + $1.storedByteCount } + packs.reduce(0) { $0 + $1.storedByteCount }
  }

  /// Returns the indices of the tensors in each pack, in order of their raw offset within it.
  /// Tensors naming a pack that does not exist are left out.
  func packMembers() -> [[Int]] {
    var members = Array(repeating: [Int](), count: packs.count)
    for (index, tensor) in tensors.enumerated() {
      guard let location = tensor.pack, members.indices.contains(location.index) else { continue }
      members[location.index].append(index)
    }
    return members.map { indices in
      indices.sorted { tensors[$0].pack!.rawOffset < tensors[$1].pack!.rawOffset }
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
  /// Chunks in order of `rawOffset`; together they cover the raw bytes exactly once. Empty
  /// for an empty tensor and for a packed one.
  public var chunks: [ChunkEntry]
  /// The place of the raw bytes when the tensor is packed with others; `nil` otherwise.
  public var pack: PackedLocation?

  public init(
    name: String, dtype: DType, shape: [Int], byteCount: Int64, chunks: [ChunkEntry],
    pack: PackedLocation? = nil
  ) {
    self.name = name
    self.dtype = dtype
    self.shape = shape
    self.byteCount = byteCount
    self.chunks = chunks
    self.pack = pack
  }

  enum CodingKeys: String, CodingKey {
    case name, dtype, shape, byteCount, chunks, pack
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    name = try container.decode(String.self, forKey: .name)
    dtype = try container.decode(DType.self, forKey: .dtype)
    shape = try container.decode([Int].self, forKey: .shape)
    byteCount = try container.decode(Int64.self, forKey: .byteCount)
    chunks = try container.decode([ChunkEntry].self, forKey: .chunks)
    // Absent means not packed; `null` is rejected, as the fast reader rejects it.
    pack =
      container.contains(.pack) ? try container.decode(PackedLocation.self, forKey: .pack) : nil
  }

  /// Total stored bytes of the tensor's own chunks; zero for a packed tensor, whose bytes
  /// are counted with its pack.
  public var storedByteCount: Int64 {
    chunks.reduce(0) { $0 + $1.storedByteCount }
  }
}

/// The place of a packed tensor's raw bytes.
public struct PackedLocation: Codable, Sendable, Equatable {
  /// Index of the pack in the manifest's `packs`.
  public var index: Int
  /// Offset of the tensor's raw bytes within the pack's raw bytes.
  public var rawOffset: Int64

  public init(index: Int, rawOffset: Int64) {
    self.index = index
    self.rawOffset = rawOffset
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
