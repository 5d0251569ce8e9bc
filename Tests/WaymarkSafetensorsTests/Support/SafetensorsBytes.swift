/// Builders for safetensors files byte by byte, so tests can write headers that no
/// conforming writer produces.
enum SafetensorsBytes {
  /// Returns the 8-byte little-endian encoding of `value`.
  static func littleEndian(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
  }

  /// Returns a file made of a length prefix, `header` as UTF-8 and `data`.
  ///
  /// - Parameter declaredLength: The length to write in the prefix; default the header's
  ///   real length.
  static func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    file(headerBytes: Array(header.utf8), data: data, declaredLength: declaredLength)
  }

  /// Returns a file made of a length prefix, the raw `headerBytes` and `data`.
  static func file(headerBytes: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil)
    -> [UInt8]
  {
    littleEndian(declaredLength ?? UInt64(headerBytes.count)) + headerBytes + data
  }
}
