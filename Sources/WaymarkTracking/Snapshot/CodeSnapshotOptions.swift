/// Source and byte cap of the code snapshot in `<run>/code/`.
public struct CodeSnapshotOptions: Sendable, Hashable {
  /// Source of the copied files.
  public enum Source: Sendable, Hashable {
    /// The files `git ls-files` lists under the directory, plus `uncommitted.patch` from
    /// `git diff HEAD`.
    case git(directory: String)
    /// Every regular file under each directory, for code outside git. Each directory is
    /// copied to `code/<its last path component>`.
    case directories([String])
    /// No snapshot.
    case disabled
  }

  /// Source of the copied files.
  public var source: Source
  /// Most bytes the snapshot may copy, the patch included; 64 MiB by default.
  public var maxByteCount: Int64
  /// File and directory names skipped when copying directories (not used for git, which
  /// lists only tracked files).
  public var excludedNames: Set<String>

  /// Creates snapshot options.
  public init(
    source: Source, maxByteCount: Int64 = 64 << 20,
    excludedNames: Set<String> = [
      ".git", ".build", ".swiftpm", "__pycache__", ".venv", "node_modules",
    ]
  ) {
    self.source = source
    self.maxByteCount = maxByteCount
    self.excludedNames = excludedNames
  }

  /// Name of the source for reports: `git`, `directories` or `disabled`.
  public var sourceName: String {
    switch source {
    case .git: "git"
    case .directories: "directories"
    case .disabled: "disabled"
    }
  }

  /// No snapshot.
  public static let disabled = CodeSnapshotOptions(source: .disabled)
}
