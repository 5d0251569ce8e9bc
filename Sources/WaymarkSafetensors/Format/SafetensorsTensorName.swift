/// The rules a tensor name in a safetensors file follows, checked on read and on write.
///
/// They match the rules Waymark checkpoints apply to tensor names, so a tensor read from a
/// safetensors file can be saved into a checkpoint under the same name.
enum SafetensorsTensorName {
  /// Maximum name length, in UTF-8 bytes.
  static let maxByteCount = 1024

  /// The header key of the metadata object, which is not a tensor.
  static let metadataKey = "__metadata__"

  /// Returns what is wrong with `name`, phrased to follow the name, or `nil` when it is
  /// allowed.
  ///
  /// A name is allowed when it is non-empty, at most 1,024 UTF-8 bytes, free of control
  /// characters (U+0000 to U+001F and U+007F), does not start with `/`, and has no `.` or `..`
  /// component between slashes.
  static func problem(with name: String) -> String? {
    if name.isEmpty {
      return "is empty"
    }
    if name.utf8.count > maxByteCount {
      return "is \(name.utf8.count) bytes long, more than the limit of \(maxByteCount)"
    }
    if let control = name.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      let code = String(control.value, radix: 16, uppercase: true)
      let padded = String(repeating: "0", count: max(0, 4 - code.count)) + code
      return "contains the control character U+\(padded)"
    }
    if name.hasPrefix("/") {
      return "starts with '/', so it looks like an absolute path"
    }
    let components = name.split(separator: "/", omittingEmptySubsequences: false)
    if components.contains(where: { $0 == ".." || $0 == "." }) {
      return "has a '.' or '..' component, so it looks like a path that leaves its folder"
    }
    return nil
  }
}
