/// The state of the git checkout a run ran from.
public struct GitMetadata: Sendable, Hashable, Codable {
  /// Full commit hash of `HEAD`.
  public var commit: String?
  /// Branch name, or `HEAD` when detached.
  public var branch: String?
  /// URL of the `origin` remote (or the first remote), without user name or password.
  public var remote: String?
  /// Whether tracked files differ from `HEAD` (`git status --porcelain --untracked-files=no`).
  public var isDirty: Bool?

  /// Creates git metadata.
  public init(commit: String?, branch: String?, remote: String?, isDirty: Bool?) {
    self.commit = commit
    self.branch = branch
    self.remote = remote
    self.isDirty = isDirty
  }
}
