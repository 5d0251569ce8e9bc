/// Which checkpoints to keep after each commit.
///
/// The default keeps everything.
public struct RetentionPolicy: Sendable, Hashable, Codable {
  /// Keep the newest N checkpoints; `nil` keeps all.
  public var keepLast: Int?

  public init(keepLast: Int? = nil) {
    self.keepLast = keepLast
  }

  /// Keep every checkpoint.
  public static let keepAll = RetentionPolicy()

  /// Whether the policy can never delete anything.
  public var keepsEverything: Bool {
    keepLast == nil
  }
}
