/// One pin of a SwiftPM `Package.resolved` file.
public struct ResolvedDependency: Sendable, Hashable, Codable {
  /// Package identity, such as `swift-nio`.
  public var identity: String
  /// Repository URL or path.
  public var location: String
  /// Resolved version, when pinned to one.
  public var version: String?
  /// Resolved commit.
  public var revision: String?
  /// Branch, when pinned to one.
  public var branch: String?

  /// Creates a pin.
  public init(
    identity: String, location: String, version: String?, revision: String?, branch: String?
  ) {
    self.identity = identity
    self.location = location
    self.version = version
    self.revision = revision
    self.branch = branch
  }
}
