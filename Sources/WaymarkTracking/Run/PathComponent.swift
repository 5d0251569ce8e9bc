/// Checks names that become directory names: experiments and tags of the run layout.
enum PathComponent {
  /// Longest accepted name, in bytes of UTF-8.
  static let maxByteCount = 200

  /// Returns what is wrong with `name` as one directory name, or `nil` when it is valid.
  ///
  /// A valid name is not empty, not `.` or `..`, does not start with `.`, and contains no
  /// `/`, backslash or control character.
  static func problem(with name: String) -> String? {
    if name.isEmpty { return "is empty" }
    if name.utf8.count > maxByteCount {
      return "is \(name.utf8.count) bytes long, more than the limit of \(maxByteCount)"
    }
    if name.hasPrefix(".") { return "starts with '.'" }
    for scalar in name.unicodeScalars {
      if scalar == "/" { return "contains '/'" }
      if scalar == "\\" { return "contains a backslash" }
      if scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) {
        return "contains a control character"
      }
    }
    return nil
  }
}
