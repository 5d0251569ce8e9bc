import Foundation
@_exported import WaymarkTestSupport

/// Flips every bit of the byte at `offset` in the file at `path`.
func flipByte(in path: String, at offset: Int) throws {
  let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
  defer { try? handle.close() }
  try handle.seek(toOffset: UInt64(offset))
  let byte = try handle.read(upToCount: 1) ?? Data([0])
  try handle.seek(toOffset: UInt64(offset))
  try handle.write(contentsOf: Data([byte[0] ^ 0xFF]))
}
