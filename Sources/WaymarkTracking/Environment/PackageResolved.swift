import WaymarkCore

/// Reads the pins of a SwiftPM `Package.resolved` file, versions 1 to 3 of its format.
enum PackageResolved {
  /// Returns the pins, or `nil` when the file is missing or not a `Package.resolved`.
  static func read(at path: String, fileSystem: any FileSystem) -> [ResolvedDependency]? {
    guard fileSystem.exists(at: path),
      let bytes = try? fileSystem.readWholeFile(at: path, maxByteCount: 8 << 20),
      let root = JSONParser.parse(bytes)
    else { return nil }

    // Version 1 nests the pins under "object" and names them "package" and "repositoryURL".
    let pins = root["pins"] ?? root["object"]?["pins"]
    guard case .array(let entries)? = pins else { return nil }
    return entries.compactMap { pin in
      guard let identity = (pin["identity"] ?? pin["package"])?.stringValue else { return nil }
      let location = (pin["location"] ?? pin["repositoryURL"])?.stringValue ?? ""
      let state = pin["state"]
      return ResolvedDependency(
        identity: identity, location: GitProbe.removingCredentials(from: location),
        version: state?["version"]?.stringValue, revision: state?["revision"]?.stringValue,
        branch: state?["branch"]?.stringValue)
    }
  }
}
