import WaymarkCore

/// Reads a JSON Lines file in chunks and passes each complete line to a closure.
///
/// A line is complete when its `\n` is in the file. The bytes after the last `\n` are the
/// torn tail of a write that a crash cut short. They are never passed on, and
/// ``Scan/completeByteCount`` tells a writer where to truncate before appending again.
struct JSONLinesReader {
  /// What a scan found besides the lines.
  struct Scan: Sendable, Equatable {
    /// Offset just after the last `\n`: the length of the complete lines.
    var completeByteCount: Int64
    /// Bytes after the last `\n`.
    var tornTailByteCount: Int64
  }

  /// Bytes read per `pread`.
  static let chunkByteCount = 1 << 20

  /// Longest line accepted; a longer line is reported as a failure instead of filling memory.
  static let maxLineByteCount = 64 << 20

  var fileSystem: any FileSystem

  /// Calls `body` with each complete, non-empty line, without its `\n`.
  ///
  /// - Throws: ``TrackingError`` with code `.io` when the file cannot be read, or
  ///   `.invalidRunFile` when a line is longer than ``maxLineByteCount``; rethrows what
  ///   `body` throws.
  func scan(path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Scan {
    let file: FileDescriptor
    do {
      file = try fileSystem.openForReading(at: path)
    } catch {
      throw TrackingError.io("opening", path: path, error)
    }
    defer { try? fileSystem.close(file, path: path) }

    var carry: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: Self.chunkByteCount)
    var offset: Int64 = 0
    var completeByteCount: Int64 = 0
    while true {
      let count: Int
      do {
        count = try chunk.withUnsafeMutableBytes { buffer in
          try fileSystem.read(into: buffer, from: file, at: offset)
        }
      } catch {
        throw TrackingError.io("reading", path: path, error)
      }
      if count == 0 { break }
      try chunk.withUnsafeBytes { buffer in
        var lineStart = 0
        for index in 0..<count where buffer[index] == 0x0A {
          if carry.isEmpty {
            let line = UnsafeRawBufferPointer(rebasing: buffer[lineStart..<index])
            if !line.isEmpty { try body(line) }
          } else {
            carry.append(contentsOf: buffer[lineStart..<index])
            try carry.withUnsafeBytes { line in try body(line) }
            carry.removeAll(keepingCapacity: true)
          }
          lineStart = index + 1
          completeByteCount = offset + Int64(index) + 1
        }
        carry.append(contentsOf: buffer[lineStart..<count])
        guard carry.count <= Self.maxLineByteCount else {
          throw TrackingError(
            .invalidRunFile,
            "'\(path)' has a line longer than \(Self.maxLineByteCount) bytes at offset \(completeByteCount); the file is damaged or not JSON Lines",
            path: path)
        }
      }
      offset += Int64(count)
    }
    return Scan(completeByteCount: completeByteCount, tornTailByteCount: offset - completeByteCount)
  }
}
