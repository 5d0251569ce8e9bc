import CXXHash

/// XXH3-64, the checksum of chunks and manifests.
///
/// Values are shown as 16 lowercase hexadecimal digits, most significant first.
public enum XXH3 {
  /// Returns the XXH3-64 hash (seed 0) of `bytes`.
  public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    XXH3_64bits(bytes.baseAddress, bytes.count)
  }

  /// Returns the XXH3-64 hash (seed 0) of `bytes`.
  public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
    let result = bytes.withContiguousStorageIfAvailable { buffer in
      hash(UnsafeRawBufferPointer(buffer))
    }
    if let result { return result }
    let copy = Array(bytes)
    return copy.withUnsafeBytes { hash($0) }
  }

  /// Formats a hash as 16 lowercase hexadecimal digits.
  public static func hexString(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }

  /// Parses 16 hexadecimal digits; returns `nil` for anything else.
  public static func parseHex(_ text: String) -> UInt64? {
    guard text.utf8.count == 16, text.utf8.allSatisfy(\.isHexDigitASCII) else { return nil }
    return UInt64(text, radix: 16)
  }
}

extension UInt8 {
  fileprivate var isHexDigitASCII: Bool {
    (0x30...0x39).contains(self) || (0x61...0x66).contains(self) || (0x41...0x46).contains(self)
  }
}
