import WaymarkCheckpoint

/// The messages of the ``CheckpointError``s this module throws for files that break the
/// safetensors format.
enum SafetensorsFailure {
  /// The fix for a file whose content is structurally wrong.
  static let rewriteFix = "write the file again with a safetensors library"

  /// The fix for a file that ends before the content it declares.
  static let truncatedFix = "the file is incomplete, so copy or download it again"

  /// Returns an `.invalidSafetensors` error whose message names the file, the field, the
  /// problem and the fix.
  ///
  /// - Parameters:
  ///   - path: The file, or `nil` for bytes held in memory.
  ///   - field: Where the problem is, such as `header length` or `tensors["w"].shape`.
  ///   - problem: What is wrong, phrased to follow the field.
  ///   - fix: What the caller can do about it.
  ///   - tensor: The tensor involved, if any.
  static func invalid(
    path: String?, field: String, _ problem: String, fix: String = rewriteFix,
    tensor: String? = nil
  ) -> CheckpointError {
    let source = path.map { "invalid safetensors file '\($0)'" } ?? "invalid safetensors data"
    return CheckpointError(
      .invalidSafetensors, "\(source): \(field) \(problem); \(fix)", path: path,
      tensor: tensor.map(shortened))
  }

  /// Returns the field path of a tensor entry's member, such as `tensors["w"].dtype`.
  static func tensorField(_ name: String, _ member: String? = nil) -> String {
    let base = "tensors[\(shortened(name).debugDescription)]"
    return member.map { "\(base).\($0)" } ?? base
  }

  /// Returns the field path of a metadata entry, such as `__metadata__["format"]`.
  static func metadataField(_ key: String) -> String {
    "__metadata__[\(shortened(key).debugDescription)]"
  }

  /// Returns `text` cut to 64 characters plus an ellipsis when it is longer than 80, so a
  /// hostile header cannot make a message megabytes long.
  static func shortened(_ text: String) -> String {
    guard text.utf8.count > 80 else { return text }
    return String(text.prefix(64)) + "…"
  }
}
