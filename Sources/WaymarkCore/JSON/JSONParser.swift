/// Parses JSON text into a ``JSONValue`` without Foundation.
///
/// Files that Waymark reads often or that grow large (`metrics.jsonl` with millions of lines,
/// a manifest with thousands of tensors) would spend most of their time in a Foundation
/// decoder. The parser accepts standard JSON (RFC 8259) and returns `nil` for anything else,
/// including text cut short by a crash, so a torn line is never misread. Integers that fit
/// `Int64` become `.int`, larger ones that fit `UInt64` become `.unsignedInt`, and every other
/// number becomes `.double`; a number beyond the range of a double, too large or too small to
/// be distinguished from zero, fails to parse. It reports only whether the text parsed, not why: callers that
/// need a message for bad input parse it again with a diagnosing reader.
public struct JSONParser {
  private let bytes: UnsafeRawBufferPointer
  private let options: Options
  private var index = 0
  private var depth = 0

  /// Limits the parser applies beyond the JSON grammar.
  public struct Options: Sendable {
    /// Deepest nesting of objects and arrays accepted, so hostile text cannot exhaust the
    /// stack.
    public var maxDepth: Int

    /// Whether an object with the same key twice fails to parse. When `false`, the last
    /// value wins.
    public var rejectsDuplicateKeys: Bool

    public init(maxDepth: Int = 64, rejectsDuplicateKeys: Bool = false) {
      self.maxDepth = maxDepth
      self.rejectsDuplicateKeys = rejectsDuplicateKeys
    }
  }

  private init(bytes: UnsafeRawBufferPointer, options: Options) {
    self.bytes = bytes
    self.options = options
  }

  /// Returns the value of `text`, or `nil` when it is not exactly one JSON value.
  public static func parse(_ text: UnsafeRawBufferPointer, options: Options = Options())
    -> JSONValue?
  {
    var parser = JSONParser(bytes: text, options: options)
    guard let value = parser.parseValue() else { return nil }
    parser.skipWhitespace()
    // Written as a guard because `nil` in a ternary with a JSONValue would become `.null`.
    guard parser.index == text.count else { return nil }
    return value
  }

  /// Returns the value of `text`, or `nil` when it is not exactly one JSON value.
  public static func parse(_ text: some Collection<UInt8>, options: Options = Options())
    -> JSONValue?
  {
    if let value = text.withContiguousStorageIfAvailable({
      parse(UnsafeRawBufferPointer($0), options: options)
    }) {
      return value
    }
    return Array(text).withUnsafeBytes { parse($0, options: options) }
  }

  mutating func skipWhitespace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  private mutating func parseValue() -> JSONValue? {
    skipWhitespace()
    guard index < bytes.count else { return nil }
    switch bytes[index] {
    case UInt8(ascii: "{"): return parseObject()
    case UInt8(ascii: "["): return parseArray()
    case UInt8(ascii: "\""): return parseString().map(JSONValue.string)
    case UInt8(ascii: "t"): return parseKeyword("true", .bool(true))
    case UInt8(ascii: "f"): return parseKeyword("false", .bool(false))
    case UInt8(ascii: "n"): return parseKeyword("null", .null)
    default: return parseNumber()
    }
  }

  private mutating func parseKeyword(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
    let count = word.utf8CodeUnitCount
    guard index + count <= bytes.count else { return nil }
    let matches = word.withUTF8Buffer { expected in
      (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
    }
    guard matches else { return nil }
    index += count
    return value
  }

  private mutating func parseObject() -> JSONValue? {
    depth += 1
    defer { depth -= 1 }
    guard depth <= options.maxDepth else { return nil }
    index += 1
    var members = [String: JSONValue](minimumCapacity: 8)
    skipWhitespace()
    if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
      index += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = parseString() else {
        return nil
      }
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
      index += 1
      guard let value = parseValue() else { return nil }
      if options.rejectsDuplicateKeys, members[key] != nil { return nil }
      members[key] = value
      skipWhitespace()
      guard index < bytes.count else { return nil }
      if bytes[index] == UInt8(ascii: ",") {
        index += 1
      } else if bytes[index] == UInt8(ascii: "}") {
        index += 1
        return .object(members)
      } else {
        return nil
      }
    }
  }

  private mutating func parseArray() -> JSONValue? {
    depth += 1
    defer { depth -= 1 }
    guard depth <= options.maxDepth else { return nil }
    index += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
      index += 1
      return .array(elements)
    }
    while true {
      guard let value = parseValue() else { return nil }
      elements.append(value)
      skipWhitespace()
      guard index < bytes.count else { return nil }
      if bytes[index] == UInt8(ascii: ",") {
        index += 1
      } else if bytes[index] == UInt8(ascii: "]") {
        index += 1
        return .array(elements)
      } else {
        return nil
      }
    }
  }

  /// Parses a string literal starting at the opening quote.
  private mutating func parseString() -> String? {
    index += 1
    let start = index
    // Fast path: no escapes, so the bytes between the quotes are the string.
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        let text = String(
          validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        index += 1
        return text
      }
      if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
      index += 1
    }
    guard index < bytes.count, bytes[index] == UInt8(ascii: "\\") else { return nil }

    var decoded = Array(bytes[start..<index])
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        index += 1
        return String(validating: decoded, as: UTF8.self)
      }
      if byte < 0x20 { return nil }
      guard byte == UInt8(ascii: "\\") else {
        decoded.append(byte)
        index += 1
        continue
      }
      index += 1
      guard index < bytes.count else { return nil }
      let escape = bytes[index]
      index += 1
      switch escape {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
      case UInt8(ascii: "b"): decoded.append(0x08)
      case UInt8(ascii: "f"): decoded.append(0x0C)
      case UInt8(ascii: "n"): decoded.append(0x0A)
      case UInt8(ascii: "r"): decoded.append(0x0D)
      case UInt8(ascii: "t"): decoded.append(0x09)
      case UInt8(ascii: "u"):
        guard let scalar = parseUnicodeEscape() else { return nil }
        decoded.append(contentsOf: String(Character(scalar)).utf8)
      default:
        return nil
      }
    }
    return nil
  }

  /// Parses the hex digits after `\u`, joining a surrogate pair into one scalar.
  private mutating func parseUnicodeEscape() -> Unicode.Scalar? {
    guard let high = parseHexQuad() else { return nil }
    if (0xD800..<0xDC00).contains(high) {
      guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
        bytes[index + 1] == UInt8(ascii: "u")
      else { return nil }
      index += 2
      guard let low = parseHexQuad(), (0xDC00..<0xE000).contains(low) else { return nil }
      return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }
    return Unicode.Scalar(high)
  }

  private mutating func parseHexQuad() -> UInt32? {
    guard index + 4 <= bytes.count else { return nil }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[index]
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default: return nil
      }
      value = value << 4 | digit
      index += 1
    }
    return value
  }

  /// Parses a number with the grammar of RFC 8259, section 6.
  private mutating func parseNumber() -> JSONValue? {
    let start = index
    let isNegative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
    if isNegative { index += 1 }
    guard index < bytes.count, isDigit(bytes[index]) else { return nil }
    let integerStart = index
    if bytes[index] == UInt8(ascii: "0") {
      index += 1
    } else {
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    let integerEnd = index
    var isInteger = true
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      isInteger = false
      index += 1
      guard index < bytes.count, isDigit(bytes[index]) else { return nil }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    var exponentStart: Int?
    if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
      exponentStart = index
      isInteger = false
      index += 1
      if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")
      {
        index += 1
      }
      guard index < bytes.count, isDigit(bytes[index]) else { return nil }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if isInteger, let magnitude = digitsValue(integerStart..<integerEnd) {
      if !isNegative {
        return magnitude <= UInt64(Int64.max) ? .int(Int64(magnitude)) : .unsignedInt(magnitude)
      }
      if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
      if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
    }
    let text = String(
      decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    // A literal too large for a double, such as 1e999, is out of range rather than infinite,
    // and a non-zero literal too small for one, such as 1e-400, is out of range rather than
    // zero, as Foundation's decoder treats both.
    guard let value = Double(text), value.isFinite else { return nil }
    if value == 0, hasNonZeroDigit(in: start..<(exponentStart ?? index)) { return nil }
    return .double(value)
  }

  /// Returns whether the bytes in `range` contain a digit other than zero.
  private func hasNonZeroDigit(in range: Range<Int>) -> Bool {
    range.contains { bytes[$0] >= UInt8(ascii: "1") && bytes[$0] <= UInt8(ascii: "9") }
  }

  /// Returns the value of a run of decimal digits, or `nil` when it does not fit `UInt64`.
  private func digitsValue(_ range: Range<Int>) -> UInt64? {
    var value: UInt64 = 0
    for position in range {
      let (shifted, overflowMultiplying) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflowAdding) = shifted.addingReportingOverflow(
        UInt64(bytes[position] - UInt8(ascii: "0")))
      guard !overflowMultiplying, !overflowAdding else { return nil }
      value = sum
    }
    return value
  }

  @inline(__always)
  private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }
}

// MARK: Reading token by token

/// The raw bytes between the quotes of a string literal.
package struct JSONStringToken {
  /// The literal's bytes as written, escapes undecoded. Valid while the parsed text is.
  package var rawBytes: UnsafeRawBufferPointer
  /// Whether the literal contains a backslash escape.
  package var hasEscapes: Bool

  /// Returns whether the literal is exactly `text`, written without escapes.
  package func isExactly(_ text: StaticString) -> Bool {
    !hasEscapes && text.withUTF8Buffer { rawBytes.elementsEqual($0) }
  }
}

extension JSONParser {
  /// Creates a parser that reads `text` one value or token at a time, for readers of a known
  /// schema that would spend most of their time building a ``JSONValue`` tree. Every method
  /// skips whitespace first, returns `nil` or `false` for text that is not JSON, and leaves
  /// the position unspecified after a failure.
  package init(streaming text: UnsafeRawBufferPointer, options: Options) {
    self.init(bytes: text, options: options)
  }

  /// Returns whether only whitespace is left.
  package mutating func isAtEnd() -> Bool {
    skipWhitespace()
    return index == bytes.count
  }

  /// Consumes `byte` when it is next.
  package mutating func consume(_ byte: UInt8) -> Bool {
    skipWhitespace()
    guard index < bytes.count, bytes[index] == byte else { return false }
    index += 1
    return true
  }

  /// Reads a string literal without decoding it.
  package mutating func readStringToken() -> JSONStringToken? {
    skipWhitespace()
    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
    let start = index + 1
    var position = start
    var hasEscapes = false
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        index = position + 1
        return JSONStringToken(
          rawBytes: UnsafeRawBufferPointer(rebasing: bytes[start..<position]),
          hasEscapes: hasEscapes)
      }
      if byte < 0x20 { return nil }
      if byte == UInt8(ascii: "\\") {
        hasEscapes = true
        position += 1
      }
      position += 1
    }
    return nil
  }

  /// Decodes a token that ``readStringToken()`` returned, checking escapes and UTF-8.
  package func string(of token: JSONStringToken) -> String? {
    guard token.hasEscapes else { return String(validating: token.rawBytes, as: UTF8.self) }
    var parser = JSONParser(
      bytes: UnsafeRawBufferPointer(
        start: token.rawBytes.baseAddress! - 1, count: token.rawBytes.count + 2),
      options: options)
    return parser.parseString()
  }

  /// Reads a string literal.
  package mutating func readString() -> String? {
    readStringToken().flatMap(string(of:))
  }

  /// Reads an integer literal that fits `Int64`.
  package mutating func readInteger() -> Int64? {
    skipWhitespace()
    guard case .int(let value)? = parseNumber() else { return nil }
    return value
  }

  /// Reads any value, counting its nesting from `depth` toward ``Options/maxDepth``.
  package mutating func readValue(nestedIn depth: Int) -> JSONValue? {
    self.depth = depth
    return parseValue()
  }
}
