import WaymarkCore

/// Writes and reads the manifest body without Foundation's JSON coders.
///
/// A checkpoint of 10,000 tensors has a manifest of about 2.4 MB, which `JSONEncoder` took
/// about 90 ms to write and `JSONDecoder` about 210 ms to read on the benchmark machine: more
/// than the tensors themselves. The writer appends tokens to one buffer; the reader reads
/// each field with ``JSONParser``'s token methods. Both follow the Codable form of
/// ``Manifest`` exactly, and keys are written sorted, as ``JSONCoding`` writes them.
///
/// The reader (``ManifestJSONReader``) is a fast path only: it returns `nil` for anything it
/// does not expect, and ``ManifestFile`` then decodes the same bytes with `JSONDecoder`, whose
/// errors name the field that is wrong.
enum ManifestJSON {
  /// Deepest nesting accepted, the same limit ``JSONKeyCheck`` enforces.
  private static let parserOptions = JSONParser.Options(
    maxDepth: JSONKeyCheck.maxDepth, rejectsDuplicateKeys: true)

  // MARK: Writing

  /// Returns the JSON text of `manifest`.
  static func encode(_ manifest: Manifest) -> [UInt8] {
    var buffer: [UInt8] = []
    buffer.reserveCapacity(512 + manifest.tensors.count * 256)
    JSONWriter.appendLiteral(#"{"extraState":"#, to: &buffer)
    JSONWriter.append(manifest.extraState, to: &buffer)
    JSONWriter.appendLiteral(#","formatVersion":"#, to: &buffer)
    JSONWriter.appendInteger(Int64(manifest.formatVersion), to: &buffer)
    JSONWriter.appendLiteral(#","metrics":"#, to: &buffer)
    JSONWriter.appendNumbers(manifest.metrics, to: &buffer)
    if !manifest.packs.isEmpty {
      JSONWriter.appendLiteral(#","packs":["#, to: &buffer)
      for (index, pack) in manifest.packs.enumerated() {
        if index > 0 { buffer.append(UInt8(ascii: ",")) }
        append(pack, to: &buffer)
      }
      buffer.append(UInt8(ascii: "]"))
    }
    JSONWriter.appendLiteral(#","step":"#, to: &buffer)
    JSONWriter.appendInteger(manifest.step, to: &buffer)
    JSONWriter.appendLiteral(#","tensors":["#, to: &buffer)
    // Indices rather than elements: copying an entry retains its name, shape and chunks.
    for index in manifest.tensors.indices {
      if index > 0 { buffer.append(UInt8(ascii: ",")) }
      append(manifest.tensors[index], to: &buffer)
    }
    JSONWriter.appendLiteral(#"],"wallTime":"#, to: &buffer)
    JSONWriter.appendNumber(manifest.wallTime, to: &buffer)
    JSONWriter.appendLiteral(#","writers":["#, to: &buffer)
    for (index, writer) in manifest.writers.enumerated() {
      if index > 0 { buffer.append(UInt8(ascii: ",")) }
      append(writer, to: &buffer)
    }
    JSONWriter.appendLiteral("]}", to: &buffer)
    return buffer
  }

  private static func append(_ tensor: TensorEntry, to buffer: inout [UInt8]) {
    JSONWriter.appendLiteral(#"{"byteCount":"#, to: &buffer)
    JSONWriter.appendInteger(tensor.byteCount, to: &buffer)
    JSONWriter.appendLiteral(#","chunks":["#, to: &buffer)
    for (index, chunk) in tensor.chunks.enumerated() {
      if index > 0 { buffer.append(UInt8(ascii: ",")) }
      append(chunk, to: &buffer)
    }
    JSONWriter.appendLiteral(#"],"dtype":"#, to: &buffer)
    JSONWriter.appendString(tensor.dtype.rawValue, to: &buffer)
    JSONWriter.appendLiteral(#","name":"#, to: &buffer)
    JSONWriter.appendString(tensor.name, to: &buffer)
    if let pack = tensor.pack {
      JSONWriter.appendLiteral(#","pack":{"index":"#, to: &buffer)
      JSONWriter.appendInteger(Int64(pack.index), to: &buffer)
      JSONWriter.appendLiteral(#","rawOffset":"#, to: &buffer)
      JSONWriter.appendInteger(pack.rawOffset, to: &buffer)
      buffer.append(UInt8(ascii: "}"))
    }
    JSONWriter.appendLiteral(#","shape":["#, to: &buffer)
    for (index, extent) in tensor.shape.enumerated() {
      if index > 0 { buffer.append(UInt8(ascii: ",")) }
      JSONWriter.appendInteger(Int64(extent), to: &buffer)
    }
    JSONWriter.appendLiteral("]}", to: &buffer)
  }

  private static func append(_ chunk: ChunkEntry, to buffer: inout [UInt8]) {
    JSONWriter.appendLiteral(#"{"checksum":"#, to: &buffer)
    JSONWriter.appendString(chunk.checksum, to: &buffer)
    JSONWriter.appendLiteral(#","codec":"#, to: &buffer)
    JSONWriter.appendString(chunk.codec.rawValue, to: &buffer)
    JSONWriter.appendLiteral(#","file":"#, to: &buffer)
    JSONWriter.appendString(chunk.file, to: &buffer)
    JSONWriter.appendLiteral(#","offset":"#, to: &buffer)
    JSONWriter.appendInteger(chunk.offset, to: &buffer)
    JSONWriter.appendLiteral(#","rawByteCount":"#, to: &buffer)
    JSONWriter.appendInteger(chunk.rawByteCount, to: &buffer)
    JSONWriter.appendLiteral(#","rawOffset":"#, to: &buffer)
    JSONWriter.appendInteger(chunk.rawOffset, to: &buffer)
    JSONWriter.appendLiteral(#","storedByteCount":"#, to: &buffer)
    JSONWriter.appendInteger(chunk.storedByteCount, to: &buffer)
    buffer.append(UInt8(ascii: "}"))
  }

  private static func append(_ writer: WriterEntry, to buffer: inout [UInt8]) {
    JSONWriter.appendLiteral(#"{"files":["#, to: &buffer)
    for (index, file) in writer.files.enumerated() {
      if index > 0 { buffer.append(UInt8(ascii: ",")) }
      JSONWriter.appendString(file, to: &buffer)
    }
    JSONWriter.appendLiteral(#"],"host":"#, to: &buffer)
    JSONWriter.appendString(writer.host, to: &buffer)
    JSONWriter.appendLiteral(#","rank":"#, to: &buffer)
    JSONWriter.appendInteger(Int64(writer.rank), to: &buffer)
    JSONWriter.appendLiteral(#","worldSize":"#, to: &buffer)
    JSONWriter.appendInteger(Int64(writer.worldSize), to: &buffer)
    buffer.append(UInt8(ascii: "}"))
  }

  // MARK: Reading

  /// Returns the manifest in `body`, or `nil` when the text is not what the writer produces:
  /// invalid JSON, a duplicate key, a missing field or a value of another type.
  static func decode(_ body: UnsafeRawBufferPointer) -> Manifest? {
    var reader = ManifestJSONReader(body, options: parserOptions)
    return reader.readManifest()
  }
}

extension ManifestJSONReader {
  /// Returns the value of a double field: a finite number or one of the strings for NaN and the infinities, as
  /// ``JSONCoding`` reads them.
  static func double(_ value: JSONValue) -> Double? {
    switch value {
    case .int(let integer): Double(integer)
    case .double(let number) where number.isFinite: number
    case .string("NaN"), .string("Infinity"), .string("-Infinity"): value.doubleValue
    default: nil
    }
  }

  /// Returns the non-tensor state as `JSONDecoder` with ``JSONCoding``'s settings reads it,
  /// so that both readers give the same manifest, or `nil` when that is not certain.
  ///
  /// A number written with a fraction or an exponent whose value as a double is a whole
  /// number of magnitude below 2^53 becomes an integer (`1.0` and `1e2` as `.int`), and the
  /// strings `"NaN"`, `"Infinity"` and `"-Infinity"` become doubles. From 2^53 on, Foundation
  /// reads the integer digits of the literal exactly (`9007199254740993.0` stays odd), so the
  /// fast reader declines such numbers and leaves the body to `JSONDecoder`.
  static func asFoundationReadsIt(_ value: JSONValue) -> JSONValue? {
    switch value {
    case .string("NaN"), .string("Infinity"), .string("-Infinity"):
      return .double(value.doubleValue!)
    case .double(let number) where number.rounded() == number:
      return abs(number) < 0x1p53 ? .int(Int64(number)) : nil
    case .array(let elements):
      var converted: [JSONValue] = []
      converted.reserveCapacity(elements.count)
      for element in elements {
        guard let element = asFoundationReadsIt(element) else { return nil }
        converted.append(element)
      }
      return .array(converted)
    case .object(let members):
      var converted: [String: JSONValue] = [:]
      converted.reserveCapacity(members.count)
      for (key, member) in members {
        guard let member = asFoundationReadsIt(member) else { return nil }
        converted[key] = member
      }
      return .object(converted)
    default:
      return value
    }
  }
}
