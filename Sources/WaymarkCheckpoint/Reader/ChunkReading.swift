import WaymarkCore

/// A data file opened for reading, with the size it had when opened.
struct OpenDataFile: Sendable {
  var path: String
  var descriptor: FileDescriptor
  var byteCount: Int64
  var fileSystem: any FileSystem
}

/// Reads, checks and decodes single chunks. Blocks; runs on pool threads.
enum ChunkReading {
  /// Reads a chunk's stored bytes, checks the checksum and decodes into `destination`.
  static func readAndDecode(
    _ chunk: ChunkEntry, from file: OpenDataFile, into destination: UnsafeMutableRawBufferPointer
  )
    throws
  {
    let stored = try readStoredBytes(chunk, from: file)
    try stored.withUnsafeBytes {
      try checkAndDecode(chunk, stored: $0, file: file, into: destination)
    }
  }

  /// Checks the checksum of a chunk's stored bytes and decodes them into `destination`.
  static func checkAndDecode(
    _ chunk: ChunkEntry, stored: UnsafeRawBufferPointer, file: OpenDataFile,
    into destination: UnsafeMutableRawBufferPointer
  ) throws {
    try checkChecksum(chunk, stored: stored, file: file)
    try ChunkCoding.decode(stored, codec: chunk.codec, into: destination)
  }

  /// Reads `byteCount` bytes at `offset` after checking that they lie inside the file.
  static func readRange(offset: Int64, byteCount: Int64, from file: OpenDataFile) throws
    -> [UInt8]
  {
    try checkRange(offset: offset, byteCount: byteCount, in: file)
    let count = Int(byteCount)
    var readCount = 0
    let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      readCount = try file.fileSystem.read(
        into: UnsafeMutableRawBufferPointer(buffer), from: file.descriptor, at: offset)
      initialized = readCount
    }
    guard readCount == count else {
      throw CheckpointError(
        .truncatedChunk,
        "read \(readCount) of \(count) stored bytes at offset \(offset) of '\(file.path)'")
    }
    return bytes
  }

  /// Reads a chunk's stored bytes after checking that they lie inside the file.
  static func readStoredBytes(_ chunk: ChunkEntry, from file: OpenDataFile) throws -> [UInt8] {
    try checkRange(offset: chunk.offset, byteCount: chunk.storedByteCount, in: file)
    guard chunk.storedByteCount <= ChunkCoding.maxStoredByteCount else {
      throw CheckpointError(
        .invalidChunk,
        "stored length \(chunk.storedByteCount) exceeds twice the largest chunk Waymark writes")
    }
    return try readRange(offset: chunk.offset, byteCount: chunk.storedByteCount, from: file)
  }

  /// Throws `.truncatedChunk` when `byteCount` bytes at `offset` run past the end of `file`.
  static func checkRange(offset: Int64, byteCount: Int64, in file: OpenDataFile) throws {
    let end = offset + byteCount
    guard end <= file.byteCount else {
      throw CheckpointError(
        .truncatedChunk,
        "stored bytes \(offset)..<\(end) lie beyond the end of '\(file.path)' (\(file.byteCount) bytes); the data file is truncated"
      )
    }
  }

  static func checkChecksum(_ chunk: ChunkEntry, stored: UnsafeRawBufferPointer, file: OpenDataFile)
    throws
  {
    let actual = XXH3.hexString(XXH3.hash(stored))
    guard actual == chunk.checksum else {
      throw CheckpointError(
        .checksumMismatch,
        "checksum mismatch in '\(file.path)' at offset \(chunk.offset): manifest says \(chunk.checksum), data hashes to \(actual); the data is damaged, so restore this checkpoint from a copy or resume from an earlier one"
      )
    }
  }
}
