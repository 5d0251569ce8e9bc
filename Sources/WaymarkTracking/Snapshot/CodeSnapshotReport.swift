/// Counts and outcome of the code snapshot, stored in `run.json` under `codeSnapshot`.
public struct CodeSnapshotReport: Sendable, Hashable, Codable {
  /// The way the snapshot ended.
  public enum Outcome: String, Sendable, Hashable, Codable {
    /// The snapshot is still being copied.
    case inProgress
    /// Every file was copied.
    case complete
    /// The byte cap left out files or cut the patch; see the counts.
    case truncated
    /// The snapshot could not be taken; see ``CodeSnapshotReport/failure``.
    case failed
    /// The run finished before the copy did, so the copy stopped.
    case cancelled
  }

  /// The way the snapshot ended.
  public var outcome: Outcome
  /// Source of the files: `git` or `directories`.
  public var source: String
  /// The byte cap.
  public var maxByteCount: Int64
  /// Files copied.
  public var copiedFileCount: Int
  /// Bytes copied, the patch included.
  public var copiedByteCount: Int64
  /// Files left out because they did not fit under the cap.
  public var skippedFileCount: Int
  /// Bytes of the files left out.
  public var skippedByteCount: Int64
  /// Files listed but not copied because they are missing, unreadable or symbolic links.
  public var unreadableFileCount: Int
  /// Bytes `git diff HEAD` produced, or `nil` without git.
  public var patchByteCount: Int64?
  /// Whether `uncommitted.patch` was cut at the cap.
  public var isPatchTruncated: Bool
  /// Reason the snapshot failed, for outcome `failed`.
  public var failure: String?

  /// Creates a report.
  public init(
    outcome: Outcome, source: String, maxByteCount: Int64, copiedFileCount: Int = 0,
    copiedByteCount: Int64 = 0, skippedFileCount: Int = 0, skippedByteCount: Int64 = 0,
    unreadableFileCount: Int = 0, patchByteCount: Int64? = nil, isPatchTruncated: Bool = false,
    failure: String? = nil
  ) {
    self.outcome = outcome
    self.source = source
    self.maxByteCount = maxByteCount
    self.copiedFileCount = copiedFileCount
    self.copiedByteCount = copiedByteCount
    self.skippedFileCount = skippedFileCount
    self.skippedByteCount = skippedByteCount
    self.unreadableFileCount = unreadableFileCount
    self.patchByteCount = patchByteCount
    self.isPatchTruncated = isPatchTruncated
    self.failure = failure
  }
}
