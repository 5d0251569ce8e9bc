/// The rules a metric name must follow to serve as a TensorBoard tag and as a file name.
///
/// A name is a `/`-separated path such as `train/loss`. It is rejected when it is empty,
/// longer than ``maxByteCount`` bytes of UTF-8, contains a control character (C0, DEL or
/// C1) or a backslash, starts or ends with `/`, or has an empty, `.` or `..` component.
public enum MetricNameRules {
  /// Longest accepted name, in bytes of UTF-8.
  public static let maxByteCount = 256

  /// Throws unless `name` is a valid metric name.
  ///
  /// - Throws: ``TrackingError`` with code `.invalidMetricName`, naming the rule it breaks.
  public static func validate(_ name: String) throws {
    if let problem = problem(with: name) {
      throw TrackingError(
        .invalidMetricName,
        "metric name \(quoted(name)) \(problem); use a '/'-separated name such as 'train/loss'",
        metric: name)
    }
  }

  /// Returns what is wrong with `name`, or `nil` when it is valid.
  static func problem(with name: String) -> String? {
    var name = name
    return name.withUTF8 { bytes -> String? in
      guard !bytes.isEmpty else { return "is empty" }
      guard bytes.count <= maxByteCount else {
        return "is \(bytes.count) bytes long, more than the limit of \(maxByteCount)"
      }
      guard bytes[0] != UInt8(ascii: "/") else { return "starts with '/'" }
      guard bytes[bytes.count - 1] != UInt8(ascii: "/") else { return "ends with '/'" }

      var componentStart = 0
      var previous: UInt8 = 0
      for index in 0...bytes.count {
        let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "/")
        if byte < 0x20 || byte == 0x7f || (previous == 0xc2 && (0x80...0x9f).contains(byte)) {
          return "contains a control character"
        }
        if byte == UInt8(ascii: "\\") { return "contains a backslash" }
        if byte == UInt8(ascii: "/") {
          let length = index - componentStart
          if length == 0 { return "contains an empty component ('//')" }
          if length <= 2, bytes[componentStart] == UInt8(ascii: "."),
            length == 1 || bytes[componentStart + 1] == UInt8(ascii: ".")
          {
            return "contains a '\(length == 1 ? "." : "..")' component"
          }
          componentStart = index + 1
        }
        previous = byte
      }
      return nil
    }
  }

  /// Quotes a name for a message, escaping control characters so the message stays one line.
  static func quoted(_ name: String) -> String {
    let shown = name.count > 80 ? String(name.prefix(80)) + "…" : name
    return "'" + shown.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "'"
  }
}
