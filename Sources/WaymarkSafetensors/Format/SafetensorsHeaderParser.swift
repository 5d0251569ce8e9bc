import WaymarkCheckpoint

/// Reads the JSON of a safetensors header into tensor entries and metadata, checking the
/// syntax, the schema, duplicate keys and tensor names as it goes.
///
/// The parser expects the schema at every step instead of building a generic JSON tree. So a
/// header cannot make it allocate more than a small multiple of the header's length, and
/// deep nesting fails at the first unexpected value instead of recursing.
struct SafetensorsHeaderParser {
  /// A tensor entry as the header declares it, before its range is checked.
  struct Entry: Equatable {
    var name: String
    var dtype: DType
    var shape: [Int]
    var begin: UInt64
    var end: UInt64
  }

  /// The entries in header order, and the metadata.
  struct Output: Equatable {
    var tensors: [Entry] = []
    var metadata: [String: String] = [:]
  }

  private let json: [UInt8]
  private let path: String?
  private var scanner: JSONScanner

  init(json: [UInt8], path: String?) {
    self.json = json
    self.path = path
    self.scanner = JSONScanner(json)
  }

  /// Parses the whole header.
  ///
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` naming the first field
  ///   that breaks a rule, or the byte offset of the first syntax error.
  mutating func parse() throws -> Output {
    if let offset = JSONScanner.validateUTF8(json) {
      throw SafetensorsFailure.invalid(
        path: path, field: "header", "is not valid UTF-8: the sequence at byte \(offset) is invalid"
      )
    }
    do {
      return try parseTopLevelObject()
    } catch let error as JSONSyntaxError {
      throw SafetensorsFailure.invalid(
        path: path, field: "header", "is not valid JSON: \(error.reason) at byte \(error.offset)")
    }
  }

  private mutating func parseTopLevelObject() throws -> Output {
    guard scanner.nextValueKind() == .object else {
      throw SafetensorsFailure.invalid(
        path: path, field: "header",
        "must be a JSON object but starts with \(scanner.describeNext())")
    }
    try scanner.expect(UInt8(ascii: "{"), after: "at the start of the header")

    var output = Output()
    var keys = Set<String>()
    if !scanner.consume(UInt8(ascii: "}")) {
      repeat {
        let key = try scanner.readString()
        let field =
          key == SafetensorsTensorName.metadataKey
          ? SafetensorsTensorName.metadataKey : SafetensorsFailure.tensorField(key)
        // Swift compares strings by canonical equivalence, so two names that differ only in
        // Unicode normalization count as duplicates here, as they would as dictionary keys.
        let (inserted, existing) = keys.insert(key)
        guard inserted else {
          guard Array(existing.utf8) == Array(key.utf8) else {
            throw invalid(
              field,
              "differs from \(existing.debugDescription) only in Unicode normalization, and Waymark keys tensors by Swift strings, which treat the two as one name",
              fix: "rename one of the two tensors in the program that wrote the file", tensor: key)
          }
          throw invalid(field, "appears more than once in the header", tensor: key)
        }
        try scanner.expect(UInt8(ascii: ":"), after: "after the key of \(field)")
        if key == SafetensorsTensorName.metadataKey {
          output.metadata = try parseMetadata()
        } else {
          if let problem = SafetensorsTensorName.problem(with: key) {
            throw invalid(field, "has a name that \(problem)", tensor: key)
          }
          output.tensors.append(try parseTensor(named: key))
        }
      } while scanner.consume(UInt8(ascii: ","))
      try scanner.expect(UInt8(ascii: "}"), after: "after a header member")
    }

    scanner.skipWhitespace()
    guard scanner.isAtEnd else {
      throw JSONSyntaxError(
        offset: scanner.position,
        reason: "unexpected \(scanner.describeNext()) after the header's JSON object")
    }
    return output
  }

  private mutating func parseMetadata() throws -> [String: String] {
    let field = SafetensorsTensorName.metadataKey
    try expectKind(.object, field: field, "must be an object whose values are strings")
    try scanner.expect(UInt8(ascii: "{"), after: "at the start of \(field)")

    var metadata: [String: String] = [:]
    if !scanner.consume(UInt8(ascii: "}")) {
      repeat {
        let key = try scanner.readString()
        let keyField = SafetensorsFailure.metadataField(key)
        try scanner.expect(UInt8(ascii: ":"), after: "after the key of \(keyField)")
        try expectKind(.string, field: keyField, "must be a string")
        let value = try scanner.readString()
        guard metadata.updateValue(value, forKey: key) == nil else {
          throw invalid(keyField, "appears more than once in the metadata")
        }
      } while scanner.consume(UInt8(ascii: ","))
      try scanner.expect(UInt8(ascii: "}"), after: "after a member of \(field)")
    }
    return metadata
  }

  private mutating func parseTensor(named name: String) throws -> Entry {
    let field = SafetensorsFailure.tensorField(name)
    try expectKind(
      .object, field: field, "must be an object with dtype, shape and data_offsets", tensor: name)
    try scanner.expect(UInt8(ascii: "{"), after: "at the start of \(field)")

    var dtype: DType?
    var shape: [Int]?
    var offsets: (begin: UInt64, end: UInt64)?
    var members = Set<String>()
    if !scanner.consume(UInt8(ascii: "}")) {
      repeat {
        let member = try scanner.readString()
        let memberField = SafetensorsFailure.tensorField(name, member)
        try scanner.expect(UInt8(ascii: ":"), after: "after the key of \(memberField)")
        guard members.insert(member).inserted else {
          throw invalid(memberField, "appears more than once", tensor: name)
        }
        switch member {
        case "dtype": dtype = try parseDType(field: memberField, tensor: name)
        case "shape": shape = try parseShape(field: memberField, tensor: name)
        case "data_offsets": offsets = try parseOffsets(field: memberField, tensor: name)
        default:
          throw invalid(
            memberField, "is not a tensor field; the fields are dtype, shape and data_offsets",
            tensor: name)
        }
      } while scanner.consume(UInt8(ascii: ","))
      try scanner.expect(UInt8(ascii: "}"), after: "after a member of \(field)")
    }

    guard let dtype else { throw invalid("\(field).dtype", "is missing", tensor: name) }
    guard let shape else { throw invalid("\(field).shape", "is missing", tensor: name) }
    guard let offsets else { throw invalid("\(field).data_offsets", "is missing", tensor: name) }
    return Entry(name: name, dtype: dtype, shape: shape, begin: offsets.begin, end: offsets.end)
  }

  private mutating func parseDType(field: String, tensor: String) throws -> DType {
    try expectKind(.string, field: field, "must be a dtype name such as \"F32\"", tensor: tensor)
    let name = try scanner.readString()
    if let dtype = DType(safetensorsName: name) {
      return dtype
    }
    let quotedName = SafetensorsFailure.shortened(name).debugDescription
    let supported = DType.allCases.map(\.safetensorsName).joined(separator: ", ")
    let fix = "convert the tensor to one of \(supported) before reading the file with Waymark"
    if name.hasPrefix("F8") {
      throw invalid(
        field, "is \(quotedName), an 8-bit float dtype that Waymark does not store", fix: fix,
        tensor: tensor)
    }
    throw invalid(
      field, "is \(quotedName), which is not a dtype Waymark stores", fix: fix, tensor: tensor)
  }

  private mutating func parseShape(field: String, tensor: String) throws -> [Int] {
    try expectKind(
      .array, field: field, "must be an array of non-negative integers", tensor: tensor)
    try scanner.expect(UInt8(ascii: "["), after: "at the start of \(field)")

    var shape: [Int] = []
    if !scanner.consume(UInt8(ascii: "]")) {
      repeat {
        let value = try parseNonNegativeInteger(field: "\(field)[\(shape.count)]", tensor: tensor)
        guard let dimension = Int(exactly: value) else {
          throw invalid(
            "\(field)[\(shape.count)]", "is \(value), more than Int can count", tensor: tensor)
        }
        shape.append(dimension)
      } while scanner.consume(UInt8(ascii: ","))
      try scanner.expect(UInt8(ascii: "]"), after: "after a dimension of \(field)")
    }
    return shape
  }

  private mutating func parseOffsets(field: String, tensor: String) throws -> (
    begin: UInt64, end: UInt64
  ) {
    let expected = "must be an array of two non-negative integers, [begin, end]"
    try expectKind(.array, field: field, expected, tensor: tensor)
    try scanner.expect(UInt8(ascii: "["), after: "at the start of \(field)")

    var values: [UInt64] = []
    if !scanner.consume(UInt8(ascii: "]")) {
      repeat {
        guard values.count < 2 else {
          throw invalid(field, "has more than two values but \(expected)", tensor: tensor)
        }
        values.append(
          try parseNonNegativeInteger(field: "\(field)[\(values.count)]", tensor: tensor))
      } while scanner.consume(UInt8(ascii: ","))
      try scanner.expect(UInt8(ascii: "]"), after: "after an offset in \(field)")
    }
    guard values.count == 2 else {
      let found = values.count == 1 ? "one value" : "\(values.count) values"
      throw invalid(field, "has \(found) but \(expected)", tensor: tensor)
    }
    return (values[0], values[1])
  }

  private mutating func parseNonNegativeInteger(field: String, tensor: String) throws -> UInt64 {
    try expectKind(.number, field: field, "must be a non-negative integer", tensor: tensor)
    let number = try scanner.readNumber()
    if number.isNegative {
      throw invalid(
        field, "is \(number.text), but it must be a non-negative integer", tensor: tensor)
    }
    if number.hasFractionOrExponent {
      throw invalid(
        field, "is \(number.text), but it must be an integer without a fraction or exponent",
        tensor: tensor)
    }
    guard let value = number.unsignedValue else {
      throw invalid(
        field, "is \(number.text), more than the largest 64-bit integer", tensor: tensor)
    }
    return value
  }

  /// Throws naming `field` unless the next value is of `kind`.
  private mutating func expectKind(
    _ kind: JSONValueKind, field: String, _ requirement: String, tensor: String? = nil
  ) throws {
    guard let found = scanner.nextValueKind() else {
      throw JSONSyntaxError(
        offset: scanner.position,
        reason: "expected a value for \(field) but found \(scanner.describeNext())")
    }
    guard found == kind else {
      throw invalid(field, "is \(found.rawValue) but \(requirement)", tensor: tensor)
    }
  }

  private func invalid(
    _ field: String, _ problem: String, fix: String = SafetensorsFailure.rewriteFix,
    tensor: String? = nil
  ) -> CheckpointError {
    SafetensorsFailure.invalid(path: path, field: field, problem, fix: fix, tensor: tensor)
  }
}
