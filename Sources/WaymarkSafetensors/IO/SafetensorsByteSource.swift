import WaymarkCheckpoint
import WaymarkCore

/// Positioned reads from the bytes of a safetensors file, in memory or on disk.
protocol SafetensorsByteSource {
  /// Bytes of the whole file.
  var byteCount: Int { get }

  /// The file, named in errors; `nil` for bytes in memory.
  var path: String? { get }

  /// Reads up to `buffer.count` bytes at `offset` and returns how many were read, fewer only
  /// at the end of the file.
  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int
}

extension SafetensorsByteSource {
  /// Reads exactly `count` bytes at `offset` into a new array.
  ///
  /// - Precondition: `offset + count <= byteCount`, which callers check against the
  ///   validated header before calling, so the allocation never exceeds the file's length.
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` naming `field` when the
  ///   file ends early, which happens only when it shrinks while being read.
  func readBytes(count: Int, at offset: Int, field: String) throws -> [UInt8] {
    precondition(offset >= 0 && count >= 0 && offset <= byteCount - count, "read outside the file")
    var readCount = 0
    let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      readCount = try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
      // Bytes past readCount stay uninitialized, so only the ones read are counted.
      initialized = readCount
    }
    guard readCount == count else {
      throw SafetensorsFailure.invalid(
        path: path, field: field,
        "ends after \(readCount) of \(count) bytes because the file shrank while it was read",
        fix: "read the file again once nothing is writing it")
    }
    return bytes
  }

  /// Reads and validates the header.
  func readHeader() throws -> SafetensorsHeader {
    let prefixCount = min(byteCount, SafetensorsHeader.lengthPrefixByteCount)
    let prefix = try readBytes(count: prefixCount, at: 0, field: "header length")
    let jsonByteCount = try SafetensorsHeader.jsonByteCount(
      lengthPrefix: prefix, fileByteCount: byteCount, path: path)
    let json = try readBytes(
      count: jsonByteCount, at: SafetensorsHeader.lengthPrefixByteCount, field: "header")
    let dataByteCount = byteCount - SafetensorsHeader.lengthPrefixByteCount - jsonByteCount
    return try SafetensorsHeader(parsingJSON: json, dataByteCount: dataByteCount, path: path)
  }

  /// Reads every tensor that `header` describes.
  ///
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` when a `BOOL` element is
  ///   neither 0 nor 1, because Swift's `Bool` has no other valid byte.
  func readTensors(of header: SafetensorsHeader) throws -> [String: Tensor] {
    var tensors: [String: Tensor] = [:]
    tensors.reserveCapacity(header.tensors.count)
    for info in header.tensors {
      let field = SafetensorsFailure.tensorField(info.name)
      let bytes = try readBytes(
        count: info.byteCount, at: header.dataSectionOffset + info.dataOffsets.lowerBound,
        field: field)
      if info.dtype == .bool, let index = bytes.firstIndex(where: { $0 > 1 }) {
        throw SafetensorsFailure.invalid(
          path: path, field: field,
          "has the byte 0x\(String(bytes[index], radix: 16, uppercase: true)) at element \(index), but BOOL elements must be 0 or 1",
          tensor: info.name)
      }
      tensors[info.name] = try Tensor(bytes: bytes, dtype: info.dtype, shape: info.shape)
    }
    return tensors
  }
}

/// A whole safetensors file held in memory.
struct InMemorySafetensorsSource: SafetensorsByteSource {
  let bytes: [UInt8]
  let path: String?

  var byteCount: Int {
    bytes.count
  }

  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
    let count = max(0, min(buffer.count, bytes.count - offset))
    bytes.withUnsafeBytes { source in
      buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
    }
    return count
  }
}

/// A safetensors file open for reading.
struct OpenSafetensorsFile: SafetensorsByteSource {
  let fileSystem: any FileSystem
  let descriptor: FileDescriptor
  let byteCount: Int
  let filePath: String

  var path: String? {
    filePath
  }

  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
    do {
      return try fileSystem.read(into: buffer, from: descriptor, at: Int64(offset))
    } catch let error as FileSystemError {
      throw SafetensorsIOFailure.error(error, reading: filePath)
    }
  }
}
