import Foundation

/// Formats numbers, durations and times the same way in every renderer.
enum TextFormat {
  /// Formats a metric value with up to 6 significant digits (`%.6g`), such as `0.123457`,
  /// or as `NaN`, `Infinity` and `-Infinity`.
  static func number(_ value: Double?) -> String {
    guard let value else { return "-" }
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
    return String(format: "%.6g", value)
  }

  /// Formats seconds as `45.2s`, `12m 03s` or `3h 07m 09s`; `-` when unknown.
  static func duration(_ seconds: Double?) -> String {
    guard let seconds, seconds.isFinite, seconds >= 0 else { return "-" }
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    let total = Int(seconds.rounded())
    let hours = total / 3600
    let minutes = (total % 3600) / 60
    if hours == 0 { return String(format: "%dm %02ds", minutes, total % 60) }
    return String(format: "%dh %02dm %02ds", hours, minutes, total % 60)
  }

  /// Formats a time as UTC ISO 8601 to the second, such as `2026-12-04T20:04:55Z`.
  static func time(_ date: Date?) -> String {
    guard let date else { return "-" }
    return date.formatted(
      Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC") ?? .current))
  }

  /// Formats a byte count with a binary unit, such as `1.5 MiB`.
  static func bytes(_ count: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
  }
}
