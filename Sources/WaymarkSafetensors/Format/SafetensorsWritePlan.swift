import WaymarkCheckpoint

/// The bytes and layout of a safetensors file about to be written: the length prefix, the
/// padded JSON header and where each tensor goes in the data section.
struct SafetensorsWritePlan {
  /// One tensor and its offset from the start of the data section.
  struct Entry {
    var name: String
    var tensor: Tensor
    var dataOffset: Int
  }

  /// The 8-byte little-endian length of ``json``.
  let lengthPrefix: [UInt8]

  /// The JSON header, padded with spaces to a multiple of 8 bytes.
  let json: [UInt8]

  /// Tensors in the order they are written.
  let entries: [Entry]

  /// Bytes of the data section.
  let dataByteCount: Int

  var dataSectionOffset: Int {
    SafetensorsHeader.lengthPrefixByteCount + json.count
  }

  var fileByteCount: Int {
    dataSectionOffset + dataByteCount
  }

  /// Validates the names and lays out the file.
  ///
  /// - Throws: ``CheckpointError`` with code `.invalidTensor` for a name that breaks the
  ///   rules or a `BOOL` element that is neither 0 nor 1, or `.invalidArgument` when the
  ///   header would be too long for readers.
  init(tensors: [String: Tensor], metadata: [String: String]) throws {
    for name in tensors.keys {
      if name == SafetensorsTensorName.metadataKey {
        throw CheckpointError(
          .invalidTensor,
          "tensor name '\(name)' is the key safetensors reserves for metadata; rename the tensor",
          tensor: name)
      }
      if let problem = SafetensorsTensorName.problem(with: name) {
        throw CheckpointError(
          .invalidTensor,
          "tensor name \(SafetensorsFailure.shortened(name).debugDescription) \(problem); rename the tensor",
          tensor: SafetensorsFailure.shortened(name))
      }
    }

    for (name, tensor) in tensors where tensor.dtype == .bool {
      let invalidByte = tensor.withUnsafeBytes { bytes in bytes.first { $0 > 1 } }
      if let invalidByte {
        throw CheckpointError(
          .invalidTensor,
          "BOOL tensor \(SafetensorsFailure.shortened(name).debugDescription) has the byte 0x\(String(invalidByte, radix: 16, uppercase: true)), but BOOL elements must be 0 or 1",
          tensor: SafetensorsFailure.shortened(name))
      }
    }

    let sorted = tensors.sorted { left, right in
      let leftRank = left.value.dtype.safetensorsWriteRank
      let rightRank = right.value.dtype.safetensorsWriteRank
      if leftRank != rightRank { return leftRank > rightRank }
      return left.key.utf8.lexicographicallyPrecedes(right.key.utf8)
    }
    var entries: [Entry] = []
    entries.reserveCapacity(sorted.count)
    var offset = 0
    for (name, tensor) in sorted {
      entries.append(Entry(name: name, tensor: tensor, dataOffset: offset))
      offset += tensor.byteCount
    }

    var json = Self.encodeJSON(entries: entries, metadata: metadata)
    json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
    guard json.count <= SafetensorsHeader.maxJSONByteCount else {
      throw CheckpointError(
        .invalidArgument,
        "the safetensors header would be \(json.count) bytes, more than the \(SafetensorsHeader.maxJSONByteCount) that readers accept; write fewer tensors or less metadata per file"
      )
    }

    let length = UInt64(json.count)
    self.lengthPrefix = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
    self.json = json
    self.entries = entries
    self.dataByteCount = offset
  }

  /// Returns the compact JSON header: `__metadata__` first with keys in UTF-8 byte order,
  /// then each tensor's `dtype`, `shape` and `data_offsets` in write order.
  private static func encodeJSON(entries: [Entry], metadata: [String: String]) -> [UInt8] {
    var json: [UInt8] = [UInt8(ascii: "{")]
    var needsComma = false
    if !metadata.isEmpty {
      appendString(SafetensorsTensorName.metadataKey, to: &json)
      json.append(contentsOf: ":{".utf8)
      let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
      for (index, key) in keys.enumerated() {
        if index > 0 { json.append(UInt8(ascii: ",")) }
        appendString(key, to: &json)
        json.append(UInt8(ascii: ":"))
        appendString(metadata[key]!, to: &json)
      }
      json.append(UInt8(ascii: "}"))
      needsComma = true
    }
    for entry in entries {
      if needsComma { json.append(UInt8(ascii: ",")) }
      needsComma = true
      appendString(entry.name, to: &json)
      json.append(contentsOf: #":{"dtype":""#.utf8)
      json.append(contentsOf: entry.tensor.dtype.safetensorsName.utf8)
      json.append(contentsOf: #"","shape":["#.utf8)
      json.append(contentsOf: entry.tensor.shape.map(String.init).joined(separator: ",").utf8)
      json.append(contentsOf: #"],"data_offsets":["#.utf8)
      json.append(
        contentsOf: "\(entry.dataOffset),\(entry.dataOffset + entry.tensor.byteCount)".utf8)
      json.append(contentsOf: "]}".utf8)
    }
    json.append(UInt8(ascii: "}"))
    return json
  }

  /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped,
  /// everything else as raw UTF-8.
  private static func appendString(_ text: String, to json: inout [UInt8]) {
    json.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): json.append(contentsOf: #"\""#.utf8)
      case UInt8(ascii: "\\"): json.append(contentsOf: #"\\"#.utf8)
      case 0x08: json.append(contentsOf: #"\b"#.utf8)
      case 0x0C: json.append(contentsOf: #"\f"#.utf8)
      case 0x0A: json.append(contentsOf: #"\n"#.utf8)
      case 0x0D: json.append(contentsOf: #"\r"#.utf8)
      case 0x09: json.append(contentsOf: #"\t"#.utf8)
      case 0x00..<0x20:
        let hex = String(byte, radix: 16)
        json.append(contentsOf: "\\u00\(hex.count == 1 ? "0" : "")\(hex)".utf8)
      default: json.append(byte)
      }
    }
    json.append(UInt8(ascii: "\""))
  }
}
