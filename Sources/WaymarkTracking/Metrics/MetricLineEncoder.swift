/// Writes the lines of `metrics.jsonl` straight into a byte buffer.
///
/// A record line has its keys sorted, as ``JSONCoding`` would write them:
/// `{"epoch":1.5,"step":12,"values":{"train/loss":0.25},"wallTime":1733342695.123456}`.
/// `epoch` is left out when the caller gave none. Values use Swift's shortest round-trip
/// decimal form, and NaN and the infinities are the strings `"NaN"`, `"Infinity"` and
/// `"-Infinity"`. The wall time has six decimals (microseconds). A resume marker line is
/// `{"resume":{"eventID":7,"fromStep":500,"wallTime":1733342695.123456}}`, with `fromStep`
/// left out when unknown. Every line ends with `\n`, written in the same call as the line.
enum MetricLineEncoder {
  /// Appends the line of `record`.
  static func append(_ record: MetricRecord, to buffer: inout [UInt8]) {
    buffer.append(UInt8(ascii: "{"))
    if let epoch = record.epoch {
      appendLiteral(#""epoch":"#, to: &buffer)
      appendNumber(epoch, to: &buffer)
      buffer.append(UInt8(ascii: ","))
    }
    appendLiteral(#""step":"#, to: &buffer)
    appendInteger(record.step, to: &buffer)
    appendLiteral(#","values":{"#, to: &buffer)
    var isFirst = true
    record.forEachValue { name, value in
      if !isFirst { buffer.append(UInt8(ascii: ",")) }
      isFirst = false
      appendString(name, to: &buffer)
      buffer.append(UInt8(ascii: ":"))
      appendNumber(value, to: &buffer)
    }
    appendLiteral(#"},"wallTime":"#, to: &buffer)
    appendWallTime(record.wallTime, to: &buffer)
    appendLiteral("}\n", to: &buffer)
  }

  /// Appends the line of a resume marker.
  static func append(_ marker: ResumeMarker, to buffer: inout [UInt8]) {
    appendLiteral(#"{"resume":{"eventID":"#, to: &buffer)
    appendInteger(Int64(marker.eventID), to: &buffer)
    if let fromStep = marker.fromStep {
      appendLiteral(#","fromStep":"#, to: &buffer)
      appendInteger(fromStep, to: &buffer)
    }
    appendLiteral(#","wallTime":"#, to: &buffer)
    appendWallTime(marker.wallTime, to: &buffer)
    appendLiteral("}}\n", to: &buffer)
  }

  @inline(__always)
  private static func appendLiteral(_ text: StaticString, to buffer: inout [UInt8]) {
    text.withUTF8Buffer { buffer.append(contentsOf: $0) }
  }

  /// Appends a JSON string literal. Metric names contain no control characters or
  /// backslashes, but quotes and any other text are still escaped correctly.
  @inline(__always)
  static func appendString(_ text: String, to buffer: inout [UInt8]) {
    var needsEscaping = false
    for byte in text.utf8
    where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
      needsEscaping = true
      break
    }
    if needsEscaping {
      CanonicalJSON.appendString(text, to: &buffer)
    } else {
      buffer.append(UInt8(ascii: "\""))
      buffer.append(contentsOf: text.utf8)
      buffer.append(UInt8(ascii: "\""))
    }
  }

  /// Appends a double as a JSON number, or as a string when it is not finite.
  @inline(__always)
  static func appendNumber(_ value: Double, to buffer: inout [UInt8]) {
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

  /// Appends a decimal integer without creating a `String`.
  @inline(__always)
  static func appendInteger(_ value: Int64, to buffer: inout [UInt8]) {
    if value < 0 { buffer.append(UInt8(ascii: "-")) }
    appendUnsigned(value.magnitude, minimumDigits: 1, to: &buffer)
  }

  /// Appends seconds with exactly six decimals, such as `1733342695.123456`.
  static func appendWallTime(_ seconds: Double, to buffer: inout [UInt8]) {
    guard seconds.isFinite, seconds >= 0, seconds < 1e15 else {
      appendNumber(seconds, to: &buffer)
      return
    }
    let microseconds = UInt64((seconds * 1_000_000).rounded())
    appendUnsigned(microseconds / 1_000_000, minimumDigits: 1, to: &buffer)
    buffer.append(UInt8(ascii: "."))
    appendUnsigned(microseconds % 1_000_000, minimumDigits: 6, to: &buffer)
  }

  @inline(__always)
  private static func appendUnsigned(_ value: UInt64, minimumDigits: Int, to buffer: inout [UInt8])
  {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
      var remaining = value
      var count = 0
      repeat {
        digits[19 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
        remaining /= 10
        count += 1
      } while remaining > 0 || count < minimumDigits
      buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
    }
  }
}
