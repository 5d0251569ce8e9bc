public import WaymarkCheckpoint

/// One tensor's entry in a safetensors header.
public struct SafetensorsTensorInfo: Sendable, Hashable {
  /// Tensor name, the entry's key in the header.
  public var name: String

  /// Element type.
  public var dtype: DType

  /// Dimensions, outermost first. `[]` is a scalar.
  public var shape: [Int]

  /// Byte range of the elements, relative to the start of the data section.
  public var dataOffsets: Range<Int>

  public init(name: String, dtype: DType, shape: [Int], dataOffsets: Range<Int>) {
    self.name = name
    self.dtype = dtype
    self.shape = shape
    self.dataOffsets = dataOffsets
  }

  /// Number of bytes of the elements.
  public var byteCount: Int {
    dataOffsets.count
  }
}

/// The validated header of a safetensors file: its tensors, its metadata and the layout of
/// the file.
///
/// A safetensors file is an 8-byte little-endian header length `n`, then `n` bytes of UTF-8
/// JSON, then the data section. The JSON object maps each tensor name to its `dtype`, `shape`
/// and `data_offsets` (relative to the data section), and may hold a `__metadata__` object of
/// string values.
///
/// A header value exists only after every rule holds. The length is at most
/// ``maxJSONByteCount`` and inside the file. The JSON is strict and has no duplicate keys.
/// Every dtype is one Waymark stores, every shape's byte count fits in `Int`, and every
/// tensor's range matches its shape and dtype. The ranges cover the data section in order
/// without gaps or overlaps. Tensor names follow the same rules as Waymark checkpoint names.
public struct SafetensorsHeader: Sendable, Equatable {
  /// Bytes of the little-endian header length at the start of the file.
  public static let lengthPrefixByteCount = 8

  /// Longest JSON header accepted, in bytes: 100,000,000, the limit of the reference
  /// implementation.
  public static let maxJSONByteCount = 100_000_000

  /// Tensors, in order of their data offsets.
  public var tensors: [SafetensorsTensorInfo]

  /// The `__metadata__` strings; empty when the header has none.
  public var metadata: [String: String]

  /// Bytes of the JSON header, including any trailing padding.
  public var jsonByteCount: Int

  /// Bytes of the data section, which the tensors cover exactly.
  public var dataByteCount: Int

  /// Offset of the data section from the start of the file.
  public var dataSectionOffset: Int {
    Self.lengthPrefixByteCount + jsonByteCount
  }

  /// Bytes of the whole file.
  public var fileByteCount: Int {
    dataSectionOffset + dataByteCount
  }

  /// Parses and validates a JSON header followed by a data section of `dataByteCount` bytes.
  ///
  /// - Parameters:
  ///   - json: The header's bytes, as they follow the length prefix in the file.
  ///   - dataByteCount: Bytes of the data section that follows the header.
  ///   - path: The file the header came from, named in errors; `nil` for bytes in memory.
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` naming the first field
  ///   that breaks a rule.
  public init(parsingJSON json: [UInt8], dataByteCount: Int, path: String? = nil) throws {
    guard dataByteCount >= 0 else {
      throw CheckpointError(
        .invalidArgument, "dataByteCount is \(dataByteCount); pass zero or a positive byte count")
    }
    guard json.count <= Self.maxJSONByteCount else {
      throw SafetensorsFailure.invalid(
        path: path, field: "header length",
        "is \(json.count) bytes, more than the limit of \(Self.maxJSONByteCount)")
    }
    var parser = SafetensorsHeaderParser(json: json, path: path)
    let parsed = try parser.parse()
    self.tensors = try SafetensorsLayout.validate(
      parsed.tensors, dataByteCount: dataByteCount, path: path)
    self.metadata = parsed.metadata
    self.jsonByteCount = json.count
    self.dataByteCount = dataByteCount
  }

  /// Parses and validates the header at the start of a whole safetensors file held in memory.
  ///
  /// The data section is everything after the header, so its length is checked against the
  /// tensors' ranges.
  ///
  /// - Parameters:
  ///   - bytes: The whole file.
  ///   - path: The file the bytes came from, named in errors; `nil` for bytes in memory.
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` naming the first field
  ///   that breaks a rule.
  public init(parsingFile bytes: [UInt8], path: String? = nil) throws {
    let jsonByteCount = try Self.jsonByteCount(
      lengthPrefix: bytes.prefix(Self.lengthPrefixByteCount), fileByteCount: bytes.count,
      path: path)
    let jsonEnd = Self.lengthPrefixByteCount + jsonByteCount
    try self.init(
      parsingJSON: Array(bytes[Self.lengthPrefixByteCount..<jsonEnd]),
      dataByteCount: bytes.count - jsonEnd, path: path)
  }

  /// Decodes the header length from the first 8 bytes of a file and checks it against the
  /// limit and the file's length.
  ///
  /// - Parameters:
  ///   - lengthPrefix: The first bytes of the file; fewer than 8 means the file is truncated.
  ///   - fileByteCount: Bytes of the whole file.
  ///   - path: The file, named in errors; `nil` for bytes in memory.
  /// - Returns: The JSON header's length, at most ``maxJSONByteCount`` and at most
  ///   `fileByteCount - 8`.
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` and the field
  ///   `header length`.
  public static func jsonByteCount(
    lengthPrefix: some Collection<UInt8>, fileByteCount: Int, path: String? = nil
  ) throws -> Int {
    guard lengthPrefix.count >= lengthPrefixByteCount, fileByteCount >= lengthPrefixByteCount
    else {
      throw SafetensorsFailure.invalid(
        path: path, field: "header length",
        "is missing because the file is \(min(fileByteCount, lengthPrefix.count)) bytes, shorter than the \(lengthPrefixByteCount)-byte length prefix",
        fix: SafetensorsFailure.truncatedFix)
    }
    var length: UInt64 = 0
    for (index, byte) in lengthPrefix.prefix(lengthPrefixByteCount).enumerated() {
      length |= UInt64(byte) << (8 * UInt64(index))
    }
    guard length > 0 else {
      throw SafetensorsFailure.invalid(
        path: path, field: "header length", "is 0, but the header holds at least '{}'")
    }
    guard length <= UInt64(maxJSONByteCount) else {
      throw SafetensorsFailure.invalid(
        path: path, field: "header length",
        "is \(length) bytes, more than the limit of \(maxJSONByteCount)")
    }
    let available = fileByteCount - lengthPrefixByteCount
    guard Int(length) <= available else {
      throw SafetensorsFailure.invalid(
        path: path, field: "header length",
        "is \(length) bytes, but only \(available) bytes follow the length prefix",
        fix: SafetensorsFailure.truncatedFix)
    }
    return Int(length)
  }
}
