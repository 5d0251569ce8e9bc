import WaymarkCore

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
      JSONWriter.appendLiteral(#""epoch":"#, to: &buffer)
      JSONWriter.appendNumber(epoch, to: &buffer)
      buffer.append(UInt8(ascii: ","))
    }
    JSONWriter.appendLiteral(#""step":"#, to: &buffer)
    JSONWriter.appendInteger(record.step, to: &buffer)
    JSONWriter.appendLiteral(#","values":{"#, to: &buffer)
    var isFirst = true
    record.forEachValue { name, value in
      if !isFirst { buffer.append(UInt8(ascii: ",")) }
      isFirst = false
      JSONWriter.appendString(name, to: &buffer)
      buffer.append(UInt8(ascii: ":"))
      JSONWriter.appendNumber(value, to: &buffer)
    }
    JSONWriter.appendLiteral(#"},"wallTime":"#, to: &buffer)
    appendWallTime(record.wallTime, to: &buffer)
    JSONWriter.appendLiteral("}\n", to: &buffer)
  }

  /// Appends the line of a resume marker.
  static func append(_ marker: ResumeMarker, to buffer: inout [UInt8]) {
    JSONWriter.appendLiteral(#"{"resume":{"eventID":"#, to: &buffer)
    JSONWriter.appendInteger(Int64(marker.eventID), to: &buffer)
    if let fromStep = marker.fromStep {
      JSONWriter.appendLiteral(#","fromStep":"#, to: &buffer)
      JSONWriter.appendInteger(fromStep, to: &buffer)
    }
    JSONWriter.appendLiteral(#","wallTime":"#, to: &buffer)
    appendWallTime(marker.wallTime, to: &buffer)
    JSONWriter.appendLiteral("}}\n", to: &buffer)
  }

  /// Appends seconds with exactly six decimals, such as `1733342695.123456`.
  static func appendWallTime(_ seconds: Double, to buffer: inout [UInt8]) {
    guard seconds.isFinite, seconds >= 0, seconds < 1e15 else {
      JSONWriter.appendNumber(seconds, to: &buffer)
      return
    }
    let microseconds = UInt64((seconds * 1_000_000).rounded())
    JSONWriter.appendUnsigned(microseconds / 1_000_000, minimumDigits: 1, to: &buffer)
    buffer.append(UInt8(ascii: "."))
    JSONWriter.appendUnsigned(microseconds % 1_000_000, minimumDigits: 6, to: &buffer)
  }
}
