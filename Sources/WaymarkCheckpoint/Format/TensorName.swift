/// The rules a tensor name follows, checked on save and on load.
enum TensorName {
  static let maxByteCount = 1024

  /// Throws unless `name` is non-empty, at most 1,024 UTF-8 bytes, free of control
  /// characters, and free of path tricks: no leading `/` and no `.` or `..` component.
  static func validate(_ name: String) throws {
    guard !name.isEmpty else {
      throw CheckpointError(.invalidTensor, "tensor name is empty; give every tensor a name")
    }
    guard name.utf8.count <= maxByteCount else {
      throw CheckpointError(
        .invalidTensor,
        "tensor name of \(name.utf8.count) bytes exceeds the limit of \(maxByteCount)",
        tensor: String(name.prefix(64)))
    }
    if let control = name.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      throw CheckpointError(
        .invalidTensor,
        "tensor name \(name.debugDescription) contains control character U+\(String(control.value, radix: 16, uppercase: true)); remove it",
        tensor: name)
    }
    let components = name.split(separator: "/", omittingEmptySubsequences: false)
    guard !name.hasPrefix("/"), !components.contains(where: { $0 == ".." || $0 == "." }) else {
      throw CheckpointError(
        .invalidTensor,
        "tensor name \(name.debugDescription) looks like a path that leaves its folder; use names such as 'layer1.weight' or 'model/layer1/weight'",
        tensor: name)
    }
  }
}
