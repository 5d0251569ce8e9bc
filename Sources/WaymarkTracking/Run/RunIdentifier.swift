#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Run ids: the UTC start time and a random suffix, such as `20261204-200455-3f9a2c`.
///
/// Ids sort by start time to the second. The 24-bit random suffix separates runs started in
/// the same second, and creating the directory with `mkdir` catches the rare collision, in
/// which case the caller draws a new suffix.
enum RunIdentifier {
  /// Returns a new id for a run starting at `wallTime` seconds since the Unix epoch.
  static func make(wallTime: Double) -> String {
    var seconds = time_t(wallTime.rounded(.down))
    var parts = tm()
    gmtime_r(&seconds, &parts)
    let date =
      pad(Int(parts.tm_year) + 1900, 4) + pad(Int(parts.tm_mon) + 1, 2) + pad(Int(parts.tm_mday), 2)
    let time = pad(Int(parts.tm_hour), 2) + pad(Int(parts.tm_min), 2) + pad(Int(parts.tm_sec), 2)
    let suffix = String(UInt32.random(in: 0..<(1 << 24)), radix: 16)
    return "\(date)-\(time)-\(String(repeating: "0", count: 6 - suffix.count))\(suffix)"
  }

  private static func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }
}
