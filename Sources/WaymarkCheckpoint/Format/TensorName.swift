/// The rules a tensor name follows, checked on save and on load.
enum TensorName {
  static let maxByteCount = 1024

  /// Throws unless `name` is non-empty, at most 1,024 UTF-8 bytes, free of control
  /// characters, and free of path tricks: no leading `/` and no `.` or `..` component.
  static func validate(_ name: String) throws {
    if passesByteScan(name) { return }
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

  /// Checks every rule in one pass over the UTF-8 bytes, without allocating, so that states of
  /// thousands of tensors validate quickly. Control characters are single bytes in UTF-8, and
  /// no byte of a multi-byte character is below 0x80, so checking bytes is exact. A name that
  /// fails goes through the checks above, which name the problem.
  private static func passesByteScan(_ name: String) -> Bool {
    let utf8 = name.utf8
    return utf8.withContiguousStorageIfAvailable { bytes in
      guard !bytes.isEmpty, bytes.count <= maxByteCount, bytes[0] != UInt8(ascii: "/") else {
        return false
      }
      var componentStart = 0
      for index in 0...bytes.count {
        let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "/")
        if byte < 0x20 || byte == 0x7F { return false }
        guard byte == UInt8(ascii: "/") else { continue }
        let length = index - componentStart
        let isDots =
          (length == 1 || length == 2)
          && bytes[componentStart..<index].allSatisfy { $0 == UInt8(ascii: ".") }
        if isDots { return false }
        componentStart = index + 1
      }
      return true
    } ?? false
  }
}
