import Foundation

/// Creates a fresh temporary directory, runs `body` with its path, and removes it afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
  let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("waymark-test-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try await body(path)
}

/// Flips every bit of the byte at `offset` in the file at `path`.
func flipByte(in path: String, at offset: Int) throws {
  let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
  defer { try? handle.close() }
  try handle.seek(toOffset: UInt64(offset))
  let byte = try handle.read(upToCount: 1) ?? Data([0])
  try handle.seek(toOffset: UInt64(offset))
  try handle.write(contentsOf: Data([byte[0] ^ 0xFF]))
}
