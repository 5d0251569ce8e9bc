public import WaymarkCore

/// The canonical JSON text of a value, so that equal configs give equal bytes and hashes.
///
/// The rules:
/// - Object keys are sorted by their UTF-8 bytes, which is Unicode code point order.
/// - No whitespace is written between tokens.
/// - A number with an integral value below 2^63 in magnitude is written as an integer, so
///   `1`, `1.0` and `1e0` all become `1`, and `-0.0` becomes `0`. Other numbers use Swift's
///   shortest round-trip form, with the exponent written without `+` or leading zeros
///   (`1e-7`, `2.5e+20` becomes `2.5e20`).
/// - NaN and the infinities are the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, as
///   ``JSONCoding`` writes them.
/// - Strings escape `"`, `\` and control characters, and keep every other character as
///   UTF-8. Strings are not Unicode-normalized.
public enum CanonicalJSON {
  /// Returns the canonical UTF-8 bytes of `value`.
  public static func bytes(of value: JSONValue) -> [UInt8] {
    var output: [UInt8] = []
    append(value, to: &output)
    return output
  }

  /// Returns the canonical text of `value`.
  public static func string(of value: JSONValue) -> String {
    String(decoding: bytes(of: value), as: UTF8.self)
  }

  private static func append(_ value: JSONValue, to output: inout [UInt8]) {
    switch value {
    case .null:
      output.append(contentsOf: "null".utf8)
    case .bool(let flag):
      output.append(contentsOf: (flag ? "true" : "false").utf8)
    case .int(let integer):
      output.append(contentsOf: String(integer).utf8)
    case .unsignedInt(let integer):
      output.append(contentsOf: String(integer).utf8)
    case .double(let number):
      appendNumber(number, to: &output)
    case .string(let text):
      JSONWriter.appendString(text, to: &output)
    case .array(let elements):
      output.append(UInt8(ascii: "["))
      for (index, element) in elements.enumerated() {
        if index > 0 { output.append(UInt8(ascii: ",")) }
        append(element, to: &output)
      }
      output.append(UInt8(ascii: "]"))
    case .object(let members):
      output.append(UInt8(ascii: "{"))
      for (index, key) in JSONWriter.sortedKeys(of: members).enumerated() {
        if index > 0 { output.append(UInt8(ascii: ",")) }
        JSONWriter.appendString(key, to: &output)
        output.append(UInt8(ascii: ":"))
        append(members[key]!, to: &output)
      }
      output.append(UInt8(ascii: "}"))
    }
  }

  private static func appendNumber(_ number: Double, to output: inout [UInt8]) {
    if number.isNaN {
      JSONWriter.appendString("NaN", to: &output)
      return
    }
    if number.isInfinite {
      JSONWriter.appendString(number > 0 ? "Infinity" : "-Infinity", to: &output)
      return
    }
    if number.rounded(.towardZero) == number, abs(number) < 9.223_372_036_854_775_808e18 {
      output.append(contentsOf: String(Int64(number)).utf8)
      return
    }
    var text = number.description
    if let exponentIndex = text.firstIndex(of: "e") {
      let mantissa = text[..<exponentIndex]
      var exponent = text[text.index(after: exponentIndex)...]
      var sign = ""
      if exponent.first == "+" {
        exponent = exponent.dropFirst()
      } else if exponent.first == "-" {
        sign = "-"
        exponent = exponent.dropFirst()
      }
      let digits = exponent.drop { $0 == "0" }
      text = "\(mantissa)e\(sign)\(digits.isEmpty ? "0" : String(digits))"
    }
    output.append(contentsOf: text.utf8)
  }
}
