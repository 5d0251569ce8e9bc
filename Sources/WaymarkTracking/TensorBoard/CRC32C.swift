/// CRC-32C (Castagnoli), the checksum of TFRecord framing, computed with slicing-by-8.
///
/// The polynomial is 0x1EDC6F41, used bit-reflected (0x82F63B78), with an initial value and
/// final XOR of 0xFFFFFFFF. The CRC-32C of the ASCII bytes `123456789` is 0xE3069283.
enum CRC32C {
  /// Eight tables of 256 entries: table `k` advances a byte through `k` further zero bytes.
  private static let tables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for byte in 0..<256 {
      var crc = UInt32(byte)
      for _ in 0..<8 {
        crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
      }
      tables[byte] = crc
    }
    for byte in 0..<256 {
      var crc = tables[byte]
      for slice in 1..<8 {
        crc = (crc >> 8) ^ tables[Int(crc & 0xff)]
        tables[slice * 256 + byte] = crc
      }
    }
    return tables
  }()

  /// Returns the CRC-32C of `bytes`.
  static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    tables.withUnsafeBufferPointer { table in
      var crc: UInt32 = 0xFFFF_FFFF
      var index = 0
      let count = bytes.count
      while index + 8 <= count {
        let low =
          crc
          ^ (UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
            | UInt32(bytes[index + 3]) << 24)
        crc =
          table[7 * 256 + Int(low & 0xff)] ^ table[6 * 256 + Int((low >> 8) & 0xff)]
          ^ table[5 * 256 + Int((low >> 16) & 0xff)] ^ table[4 * 256 + Int(low >> 24)]
          ^ table[3 * 256 + Int(bytes[index + 4])] ^ table[2 * 256 + Int(bytes[index + 5])]
          ^ table[1 * 256 + Int(bytes[index + 6])] ^ table[Int(bytes[index + 7])]
        index += 8
      }
      while index < count {
        crc = (crc >> 8) ^ table[Int((crc ^ UInt32(bytes[index])) & 0xff)]
        index += 1
      }
      return crc ^ 0xFFFF_FFFF
    }
  }

  /// Returns the CRC-32C of `bytes`.
  static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }

  /// Returns the masked CRC-32C that TFRecord stores: the CRC rotated right by 15 bits plus
  /// the constant 0xA282EAD8, so that data containing its own CRC checks differently.
  static func maskedChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    let crc = checksum(bytes)
    return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
  }
}
