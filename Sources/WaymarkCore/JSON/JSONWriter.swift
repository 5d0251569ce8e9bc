/// Appends JSON tokens straight to a byte buffer, without Foundation.
///
/// Files that are written often or grow large (metric lines, manifests with thousands of
/// tensors) would spend most of their time in `JSONEncoder`. The output follows the same
/// rules as ``JSONCoding``: object keys sorted by their UTF-8 bytes, no whitespace, `/` not
/// escaped, and NaN and the infinities written as the strings `"NaN"`, `"Infinity"` and
/// `"-Infinity"`. Finite doubles use Swift's shortest round-trip form, so they read back
/// bit for bit.
public enum JSONWriter {
  /// Appends `text` unchanged; it must already be valid JSON.
  @inline(__always)
  public static func appendLiteral(_ text: StaticString, to buffer: inout [UInt8]) {
    text.withUTF8Buffer { buffer.append(contentsOf: $0) }
  }

  /// Appends `text` as a JSON string literal, escaping `"`, `\` and control characters.
  @inline(__always)
  public static func appendString(_ text: String, to buffer: inout [UInt8]) {
    var needsEscaping = false
    for byte in text.utf8
    where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
      needsEscaping = true
      break
    }
    guard needsEscaping else {
      buffer.append(UInt8(ascii: "\""))
      buffer.append(contentsOf: text.utf8)
      buffer.append(UInt8(ascii: "\""))
      return
    }
    appendEscapedString(text, to: &buffer)
  }

  private static func appendEscapedString(_ text: String, to buffer: inout [UInt8]) {
    let hexDigits: StaticString = "0123456789abcdef"
    buffer.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): buffer.append(contentsOf: [0x5C, byte])
      case 0x0A: buffer.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x0D: buffer.append(contentsOf: [0x5C, UInt8(ascii: "r")])
      case 0x09: buffer.append(contentsOf: [0x5C, UInt8(ascii: "t")])
      case 0x08: buffer.append(contentsOf: [0x5C, UInt8(ascii: "b")])
      case 0x0C: buffer.append(contentsOf: [0x5C, UInt8(ascii: "f")])
      case 0x00..<0x20:
        appendLiteral("\\u00", to: &buffer)
        hexDigits.withUTF8Buffer { digits in
          buffer.append(digits[Int(byte >> 4)])
          buffer.append(digits[Int(byte & 0x0F)])
        }
      default:
        buffer.append(byte)
      }
    }
    buffer.append(UInt8(ascii: "\""))
  }

  /// Appends a decimal integer without creating a `String`.
  @inline(__always)
  public static func appendInteger(_ value: Int64, to buffer: inout [UInt8]) {
    if value < 0 { buffer.append(UInt8(ascii: "-")) }
    appendUnsigned(value.magnitude, to: &buffer)
  }

  /// Appends a decimal integer with at least `minimumDigits` digits, padded with zeros.
  @inline(__always)
  public static func appendUnsigned(
    _ value: UInt64, minimumDigits: Int = 1, to buffer: inout [UInt8]
  ) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
      var remaining = value
      var count = 0
      repeat {
        digits[19 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
        remaining /= 10
        count += 1
      } while remaining > 0 || count < min(minimumDigits, 20)
      buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
    }
  }

  /// Appends a double as a JSON number, or as a string when it is not finite.
  @inline(__always)
  public static func appendNumber(_ value: Double, to buffer: inout [UInt8]) {
    if value.isFinite {
      buffer.append(contentsOf: value.description.utf8)
    } else if value.isNaN {
      appendLiteral(#""NaN""#, to: &buffer)
    } else if value > 0 {
      appendLiteral(#""Infinity""#, to: &buffer)
    } else {
      appendLiteral(#""-Infinity""#, to: &buffer)
    }
  }

  /// Appends an object of numbers with its keys sorted.
  public static func appendNumbers(_ numbers: [String: Double], to buffer: inout [UInt8]) {
    buffer.append(UInt8(ascii: "{"))
    for (index, key) in sortedKeys(of: numbers).enumerated() {
      if index > 0 { buffer.append(UInt8(ascii: ",")) }
      appendString(key, to: &buffer)
      buffer.append(UInt8(ascii: ":"))
      appendNumber(numbers[key]!, to: &buffer)
    }
    buffer.append(UInt8(ascii: "}"))
  }

  /// Appends `value` with object keys sorted.
  public static func append(_ value: JSONValue, to buffer: inout [UInt8]) {
    switch value {
    case .null: appendLiteral("null", to: &buffer)
    case .bool(let flag):
      flag ? appendLiteral("true", to: &buffer) : appendLiteral("false", to: &buffer)
    case .int(let integer): appendInteger(integer, to: &buffer)
    case .unsignedInt(let integer): appendUnsigned(integer, to: &buffer)
    case .double(let number): appendNumber(number, to: &buffer)
    case .string(let text): appendString(text, to: &buffer)
    case .array(let elements):
      buffer.append(UInt8(ascii: "["))
      for (index, element) in elements.enumerated() {
        if index > 0 { buffer.append(UInt8(ascii: ",")) }
        append(element, to: &buffer)
      }
      buffer.append(UInt8(ascii: "]"))
    case .object(let members):
      buffer.append(UInt8(ascii: "{"))
      for (index, key) in sortedKeys(of: members).enumerated() {
        if index > 0 { buffer.append(UInt8(ascii: ",")) }
        appendString(key, to: &buffer)
        buffer.append(UInt8(ascii: ":"))
        append(members[key]!, to: &buffer)
      }
      buffer.append(UInt8(ascii: "}"))
    }
  }

  /// Returns the keys of `dictionary` in the order of their UTF-8 bytes.
  public static func sortedKeys<Value>(of dictionary: [String: Value]) -> [String] {
    dictionary.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }
}
