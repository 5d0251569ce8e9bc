import WaymarkCore

/// Reads a manifest body field by field, without building a ``JSONValue`` tree first.
///
/// Building the tree for 10,000 tensors took about 20 ms, mostly allocating dictionaries and
/// hashing their keys, which was as long as decoding the tensors' bytes. This reader matches
/// keys against the bytes the writer produces and reads each value straight into its field.
/// It accepts exactly what the tree-based reader accepted: any key order, whitespace,
/// escaped keys and unknown keys, but no duplicate key, no missing field and no value of
/// another type. For anything else it returns `nil`, and ``ManifestFile`` falls back to
/// `JSONDecoder`.
struct ManifestJSONReader {
  private var parser: JSONParser

  init(_ body: UnsafeRawBufferPointer, options: JSONParser.Options) {
    parser = JSONParser(streaming: body, options: options)
  }

  // MARK: Objects and keys

  /// The keys a reader knows for one kind of object.
  private struct KeySet {
    var names: [StaticString]
    var strings: [String]

    init(_ names: [StaticString]) {
      self.names = names
      self.strings = names.map { $0.description }
    }

    /// Returns the key `token` spells: its position among the known keys, or its decoded
    /// text when it is unknown. Returns `nil` for a key that is not valid text.
    func match(_ token: JSONStringToken, parser: JSONParser) -> KeyMatch? {
      if !token.hasEscapes, let known = names.firstIndex(where: token.isExactly) {
        return .known(known)
      }
      guard let text = parser.string(of: token) else { return nil }
      return strings.firstIndex(of: text).map(KeyMatch.known) ?? .unknown(text)
    }
  }

  /// A key of an object: a known key, by position among the known keys, or another key, by
  /// its text.
  private enum KeyMatch {
    case known(Int)
    case unknown(String)
  }

  /// Reads an object, calling `member` with the position of each known key in `keys` while
  /// the parser is at its value, and skipping the values of unknown keys. Returns
  /// the set of known keys seen, or `nil` on bad text, a duplicate key or a `member` failure.
  private mutating func readObject(
    keys: KeySet, depth: Int, _ member: (inout ManifestJSONReader, Int) -> Bool
  ) -> UInt64? {
    guard parser.consume(UInt8(ascii: "{")) else { return nil }
    var seen: UInt64 = 0
    var unknown: Set<String> = []
    if parser.consume(UInt8(ascii: "}")) { return seen }
    repeat {
      guard let token = parser.readStringToken(),
        let key = keys.match(token, parser: parser),
        parser.consume(UInt8(ascii: ":"))
      else { return nil }
      switch key {
      case .known(let position):
        let bit: UInt64 = 1 << position
        guard seen & bit == 0, member(&self, position) else { return nil }
        seen |= bit
      case .unknown(let name):
        guard unknown.insert(name).inserted, parser.readValue(nestedIn: depth) != nil else {
          return nil
        }
      }
    } while parser.consume(UInt8(ascii: ","))
    return parser.consume(UInt8(ascii: "}")) ? seen : nil
  }

  /// Reads an array, calling `element` while the parser is at each element.
  private mutating func readArray(_ element: (inout ManifestJSONReader) -> Bool) -> Bool {
    guard parser.consume(UInt8(ascii: "[")) else { return false }
    if parser.consume(UInt8(ascii: "]")) { return true }
    repeat {
      guard element(&self) else { return false }
    } while parser.consume(UInt8(ascii: ","))
    return parser.consume(UInt8(ascii: "]"))
  }

  /// Returns whether every one of the first `count` keys was seen.
  private static func all(_ count: Int, in seen: UInt64?) -> Bool {
    guard let seen else { return false }
    let mask: UInt64 = (1 << count) - 1
    return seen & mask == mask
  }

  // MARK: The manifest

  private static let rootKeys = KeySet([
    "formatVersion", "step", "wallTime", "metrics", "extraState", "writers", "tensors", "packs",
  ])

  /// Returns the manifest in the body, or `nil` when the text is not what the writer produces.
  mutating func readManifest() -> Manifest? {
    var formatVersion = 0
    var step: Int64 = 0
    var wallTime = 0.0
    var metrics: [String: Double] = [:]
    var extraState: JSONValue = .null
    var writers: [WriterEntry] = []
    var tensors: [TensorEntry] = []
    var packs: [ChunkEntry] = []
    let seen = readObject(keys: Self.rootKeys, depth: 1) { reader, key in
      switch key {
      case 0:
        guard let value = reader.parser.readInteger().flatMap({ Int(exactly: $0) }) else {
          return false
        }
        formatVersion = value
      case 1:
        guard let value = reader.parser.readInteger() else { return false }
        step = value
      case 2:
        guard let value = reader.parser.readValue(nestedIn: 1).flatMap(Self.double) else {
          return false
        }
        wallTime = value
      case 3:
        guard let value = reader.readMetrics() else { return false }
        metrics = value
      case 4:
        guard let value = reader.parser.readValue(nestedIn: 1).flatMap(Self.asFoundationReadsIt)
        else { return false }
        extraState = value
      case 5:
        return reader.readArray { reader in
          guard let writer = reader.readWriter() else { return false }
          writers.append(writer)
          return true
        }
      case 6:
        return reader.readArray { reader in
          guard let tensor = reader.readTensor() else { return false }
          tensors.append(tensor)
          return true
        }
      default:
        return reader.readArray { reader in
          guard let pack = reader.readChunk(depth: 3) else { return false }
          packs.append(pack)
          return true
        }
      }
      return true
    }
    guard Self.all(7, in: seen), parser.isAtEnd() else { return nil }
    return Manifest(
      formatVersion: formatVersion, step: step, wallTime: wallTime, metrics: metrics,
      extraState: extraState, writers: writers, tensors: tensors, packs: packs)
  }

  private mutating func readMetrics() -> [String: Double]? {
    guard case .object(let members)? = parser.readValue(nestedIn: 1) else { return nil }
    var metrics: [String: Double] = [:]
    for (name, value) in members {
      guard let number = Self.double(value) else { return nil }
      metrics[name] = number
    }
    return metrics
  }

  private static let writerKeys = KeySet(["rank", "worldSize", "host", "files"])

  private mutating func readWriter() -> WriterEntry? {
    var writer = WriterEntry(rank: 0, worldSize: 0, host: "", files: [])
    let seen = readObject(keys: Self.writerKeys, depth: 3) { reader, key in
      switch key {
      case 0:
        guard let rank = reader.parser.readInteger().flatMap({ Int(exactly: $0) }) else {
          return false
        }
        writer.rank = rank
      case 1:
        guard let worldSize = reader.parser.readInteger().flatMap({ Int(exactly: $0) }) else {
          return false
        }
        writer.worldSize = worldSize
      case 2:
        guard let host = reader.parser.readString() else { return false }
        writer.host = host
      default:
        return reader.readArray { reader in
          guard let file = reader.parser.readString() else { return false }
          writer.files.append(file)
          return true
        }
      }
      return true
    }
    return Self.all(4, in: seen) ? writer : nil
  }

  private static let tensorKeys = KeySet(["name", "dtype", "shape", "byteCount", "chunks", "pack"])

  private mutating func readTensor() -> TensorEntry? {
    var tensor = TensorEntry(name: "", dtype: .uint8, shape: [], byteCount: 0, chunks: [])
    let seen = readObject(keys: Self.tensorKeys, depth: 3) { reader, key in
      switch key {
      case 0:
        guard let name = reader.parser.readString() else { return false }
        tensor.name = name
      case 1:
        guard let dtype = reader.parser.readString().flatMap(DType.init(rawValue:)) else {
          return false
        }
        tensor.dtype = dtype
      case 2:
        return reader.readArray { reader in
          guard let extent = reader.parser.readInteger().flatMap({ Int(exactly: $0) }) else {
            return false
          }
          tensor.shape.append(extent)
          return true
        }
      case 3:
        guard let byteCount = reader.parser.readInteger() else { return false }
        tensor.byteCount = byteCount
      case 4:
        return reader.readArray { reader in
          guard let chunk = reader.readChunk(depth: 5) else { return false }
          tensor.chunks.append(chunk)
          return true
        }
      default:
        guard let location = reader.readPackedLocation() else { return false }
        tensor.pack = location
      }
      return true
    }
    return Self.all(5, in: seen) ? tensor : nil
  }

  private static let locationKeys = KeySet(["index", "rawOffset"])

  private mutating func readPackedLocation() -> PackedLocation? {
    var location = PackedLocation(index: 0, rawOffset: 0)
    let seen = readObject(keys: Self.locationKeys, depth: 4) { reader, key in
      guard let value = reader.parser.readInteger() else { return false }
      if key == 0 {
        guard let index = Int(exactly: value) else { return false }
        location.index = index
      } else {
        location.rawOffset = value
      }
      return true
    }
    return Self.all(2, in: seen) ? location : nil
  }

  private static let chunkKeys = KeySet([
    "file", "offset", "storedByteCount", "rawOffset", "rawByteCount", "codec", "checksum",
  ])

  /// Reads a chunk or pack object nested at `depth`.
  private mutating func readChunk(depth: Int) -> ChunkEntry? {
    var chunk = ChunkEntry(
      file: "", offset: 0, storedByteCount: 0, rawOffset: 0, rawByteCount: 0, codec: .raw,
      checksum: "")
    let seen = readObject(keys: Self.chunkKeys, depth: depth) { reader, key in
      switch key {
      case 0:
        guard let file = reader.parser.readString() else { return false }
        chunk.file = file
      case 5:
        guard let codec = reader.parser.readString().flatMap(ChunkCodec.init(rawValue:)) else {
          return false
        }
        chunk.codec = codec
      case 6:
        guard let checksum = reader.parser.readString() else { return false }
        chunk.checksum = checksum
      default:
        guard let value = reader.parser.readInteger() else { return false }
        switch key {
        case 1: chunk.offset = value
        case 2: chunk.storedByteCount = value
        case 3: chunk.rawOffset = value
        default: chunk.rawByteCount = value
        }
      }
      return true
    }
    return Self.all(7, in: seen) ? chunk : nil
  }
}
