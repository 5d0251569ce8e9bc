import Foundation

/// Formats byte counts for people: binary units with one decimal.
enum ByteCountText {
  static func format(_ byteCount: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(byteCount)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(byteCount) B" : String(format: "%.1f", value) + " " + units[unit]
  }
}
