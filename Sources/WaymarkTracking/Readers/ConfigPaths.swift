import WaymarkCore

/// Flattens a config into leaf values keyed by JSON path, for comparing configs.
enum ConfigPaths {
  /// Returns every leaf of `value` by path. Leaves are scalars, empty arrays and empty
  /// objects. Paths join object keys with `.` and array indices with `[i]`; a key that is
  /// not a plain identifier is written as `["key"]`. The root itself is `$`.
  static func leaves(of value: JSONValue) -> [String: JSONValue] {
    var result: [String: JSONValue] = [:]
    collect(value, path: "", into: &result)
    return result
  }

  private static func collect(
    _ value: JSONValue, path: String, into result: inout [String: JSONValue]
  ) {
    switch value {
    case .object(let members) where !members.isEmpty:
      for (key, member) in members {
        collect(member, path: join(path, key: key), into: &result)
      }
    case .array(let elements) where !elements.isEmpty:
      for (index, element) in elements.enumerated() {
        collect(element, path: "\(path.isEmpty ? "$" : path)[\(index)]", into: &result)
      }
    default:
      result[path.isEmpty ? "$" : path] = value
    }
  }

  private static func join(_ path: String, key: String) -> String {
    if isIdentifier(key) { return path.isEmpty ? key : "\(path).\(key)" }
    var quoted: [UInt8] = []
    JSONWriter.appendString(key, to: &quoted)
    return "\(path.isEmpty ? "$" : path)[\(String(decoding: quoted, as: UTF8.self))]"
  }

  private static func isIdentifier(_ key: String) -> Bool {
    guard let first = key.unicodeScalars.first,
      first == "_" || (first.isASCII && first.properties.isAlphabetic)
    else { return false }
    return key.unicodeScalars.allSatisfy { scalar in
      scalar == "_" || scalar == "-" || (scalar.isASCII && scalar.properties.isAlphabetic)
        || ("0"..."9").contains(scalar)
    }
  }
}
