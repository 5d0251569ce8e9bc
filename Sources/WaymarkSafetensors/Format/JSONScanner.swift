/// A JSON syntax error at a byte offset of the text being scanned.
struct JSONSyntaxError: Error, Equatable {
  /// Byte offset of the problem, from the start of the text.
  var offset: Int

  /// Description of the problem, phrased to follow "the header is not valid JSON:".
  var reason: String
}

/// A JSON number token, classified for the integer fields of a safetensors header.
struct JSONNumber: Equatable {
  /// The token as written, cut to 32 characters.
  var text: String

  /// Whether the token starts with `-`.
  var isNegative: Bool

  /// Whether the token has a fraction or an exponent.
  var hasFractionOrExponent: Bool

  /// The value, when the token is a non-negative integer that fits in `UInt64`.
  var unsignedValue: UInt64?
}

/// The kind of JSON value that starts at a byte, for messages about unexpected values.
enum JSONValueKind: String {
  case object = "an object"
  case array = "an array"
  case string = "a string"
  case number = "a number"
  case literal = "true, false or null"

  /// Returns the kind of value starting with `byte`, or `nil` when no value starts so.
  init?(firstByte byte: UInt8) {
    switch byte {
    case UInt8(ascii: "{"): self = .object
    case UInt8(ascii: "["): self = .array
    case UInt8(ascii: "\""): self = .string
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): self = .number
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): self = .literal
    default: return nil
    }
  }
}

/// A cursor that reads JSON tokens from UTF-8 text strictly, as RFC 8259 defines them.
///
/// The scanner reads tokens, not trees: the caller decides what value it expects next, so
/// memory stays proportional to the values it keeps. It rejects what lenient parsers accept:
/// raw control characters in strings, unpaired surrogate escapes, leading zeros, `+` signs,
/// trailing commas, comments and non-finite literals.
///
/// - Precondition: `bytes` is valid UTF-8; ``validateUTF8(_:)`` checks that first.
struct JSONScanner {
  private let bytes: [UInt8]

  /// Offset of the next unread byte.
  private(set) var position = 0

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// Returns the offset of the first byte that is not part of valid UTF-8, or `nil` when all
  /// of `bytes` is valid.
  ///
  /// Overlong forms, encoded surrogates and values above U+10FFFF are invalid.
  static func validateUTF8(_ bytes: [UInt8]) -> Int? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        offset += encoded.count
      case .emptyInput:
        return nil
      case .error:
        return offset
      }
    }
  }

  /// Whether every byte has been read.
  var isAtEnd: Bool {
    position >= bytes.count
  }

  /// Skips spaces, tabs, line feeds and carriage returns.
  mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  /// Skips whitespace and returns the next byte without reading it, or `nil` at the end.
  mutating func peek() -> UInt8? {
    skipWhitespace()
    return position < bytes.count ? bytes[position] : nil
  }

  /// Skips whitespace and reads `byte` if it comes next.
  mutating func consume(_ byte: UInt8) -> Bool {
    guard peek() == byte else { return false }
    position += 1
    return true
  }

  /// Skips whitespace and reads `byte`, or throws naming what was found instead.
  mutating func expect(_ byte: UInt8, after context: String) throws(JSONSyntaxError) {
    guard consume(byte) else {
      throw JSONSyntaxError(
        offset: position,
        reason:
          "expected '\(Character(Unicode.Scalar(byte)))' \(context) but found \(describeNext())")
    }
  }

  /// Returns the kind of the value that starts next, or `nil` when no value starts there.
  mutating func nextValueKind() -> JSONValueKind? {
    peek().flatMap(JSONValueKind.init(firstByte:))
  }

  /// Returns a short description of the next byte for syntax messages.
  mutating func describeNext() -> String {
    guard let byte = peek() else { return "the end of the header" }
    if (0x21...0x7E).contains(byte) {
      return "'\(Character(Unicode.Scalar(byte)))'"
    }
    return "byte 0x\(String(byte, radix: 16, uppercase: true))"
  }

  /// Reads a string token and returns its decoded value.
  mutating func readString() throws(JSONSyntaxError) -> String {
    skipWhitespace()
    let start = position
    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
      throw JSONSyntaxError(
        offset: position, reason: "expected a string but found \(describeNext())")
    }
    position += 1

    var decoded: [UInt8] = []
    while true {
      guard position < bytes.count else {
        throw JSONSyntaxError(offset: start, reason: "string is not closed")
      }
      let byte = bytes[position]
      switch byte {
      case UInt8(ascii: "\""):
        position += 1
        return String(decoding: decoded, as: UTF8.self)
      case UInt8(ascii: "\\"):
        try readEscape(into: &decoded)
      case 0x00..<0x20:
        throw JSONSyntaxError(
          offset: position,
          reason:
            "string contains the raw control byte 0x\(String(byte, radix: 16, uppercase: true)), which JSON requires to be escaped"
        )
      default:
        decoded.append(byte)
        position += 1
      }
    }
  }

  /// Reads one escape sequence, starting at its backslash, and appends its UTF-8 bytes.
  private mutating func readEscape(into decoded: inout [UInt8]) throws(JSONSyntaxError) {
    let start = position
    position += 1
    guard position < bytes.count else {
      throw JSONSyntaxError(offset: start, reason: "escape sequence is cut off")
    }
    let letter = bytes[position]
    position += 1
    switch letter {
    case UInt8(ascii: "\""): decoded.append(UInt8(ascii: "\""))
    case UInt8(ascii: "\\"): decoded.append(UInt8(ascii: "\\"))
    case UInt8(ascii: "/"): decoded.append(UInt8(ascii: "/"))
    case UInt8(ascii: "b"): decoded.append(0x08)
    case UInt8(ascii: "f"): decoded.append(0x0C)
    case UInt8(ascii: "n"): decoded.append(0x0A)
    case UInt8(ascii: "r"): decoded.append(0x0D)
    case UInt8(ascii: "t"): decoded.append(0x09)
    case UInt8(ascii: "u"):
      let scalar = try readUnicodeEscape(start: start)
      decoded.append(contentsOf: UTF8.encode(scalar)!)
    default:
      throw JSONSyntaxError(
        offset: start,
        reason: "'\\\(Character(Unicode.Scalar(letter)))' is not a JSON escape sequence")
    }
  }

  /// Reads the four hex digits after `\u`, and a second `\uXXXX` when the first is a high
  /// surrogate, and returns the scalar they encode.
  private mutating func readUnicodeEscape(start: Int) throws(JSONSyntaxError) -> Unicode.Scalar {
    let first = try readHexQuad(start: start)
    switch first {
    case 0xD800...0xDBFF:
      guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
        bytes[position + 1] == UInt8(ascii: "u")
      else {
        throw JSONSyntaxError(
          offset: start, reason: "high surrogate escape is not followed by a low surrogate")
      }
      position += 2
      let second = try readHexQuad(start: start)
      guard (0xDC00...0xDFFF).contains(second) else {
        throw JSONSyntaxError(
          offset: start, reason: "high surrogate escape is not followed by a low surrogate")
      }
      let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
      return Unicode.Scalar(value)!
    case 0xDC00...0xDFFF:
      throw JSONSyntaxError(
        offset: start, reason: "low surrogate escape has no high surrogate before it")
    default:
      return Unicode.Scalar(first)!
    }
  }

  private mutating func readHexQuad(start: Int) throws(JSONSyntaxError) -> UInt32 {
    guard position + 4 <= bytes.count else {
      throw JSONSyntaxError(offset: start, reason: "'\\u' escape needs four hexadecimal digits")
    }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default:
        throw JSONSyntaxError(offset: start, reason: "'\\u' escape needs four hexadecimal digits")
      }
      value = value << 4 | UInt32(digit)
      position += 1
    }
    return value
  }

  /// Reads a number token and classifies it.
  mutating func readNumber() throws(JSONSyntaxError) -> JSONNumber {
    skipWhitespace()
    let start = position
    let isNegative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
    if isNegative { position += 1 }

    let integerStart = position
    let integerDigits = skipDigits()
    guard integerDigits > 0 else {
      throw JSONSyntaxError(offset: start, reason: "expected a number but found \(describeNext())")
    }
    guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
      throw JSONSyntaxError(offset: start, reason: "number has a leading zero")
    }
    let integerEnd = position

    var hasFractionOrExponent = false
    if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
      position += 1
      guard skipDigits() > 0 else {
        throw JSONSyntaxError(offset: start, reason: "number has no digits after its decimal point")
      }
      hasFractionOrExponent = true
    }
    if position < bytes.count,
      bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")
    {
      position += 1
      if position < bytes.count,
        bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
      {
        position += 1
      }
      guard skipDigits() > 0 else {
        throw JSONSyntaxError(offset: start, reason: "number has no digits in its exponent")
      }
      hasFractionOrExponent = true
    }

    var unsignedValue: UInt64?
    if !isNegative, !hasFractionOrExponent {
      unsignedValue = Self.parseUnsigned(bytes[integerStart..<integerEnd])
    }
    let text = String(decoding: bytes[start..<min(position, start + 32)], as: UTF8.self)
    return JSONNumber(
      text: position - start > 32 ? text + "…" : text, isNegative: isNegative,
      hasFractionOrExponent: hasFractionOrExponent, unsignedValue: unsignedValue)
  }

  private mutating func skipDigits() -> Int {
    let start = position
    while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position])
    {
      position += 1
    }
    return position - start
  }

  /// Returns the value of ASCII decimal digits, or `nil` when it exceeds `UInt64.max`.
  private static func parseUnsigned(_ digits: ArraySlice<UInt8>) -> UInt64? {
    var value: UInt64 = 0
    for byte in digits {
      let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflowB) = shifted.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
      guard !overflowA, !overflowB else { return nil }
      value = sum
    }
    return value
  }
}
