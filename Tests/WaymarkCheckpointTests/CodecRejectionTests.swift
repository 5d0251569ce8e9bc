import Foundation
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

@Suite("Codec rejections")
struct CodecRejectionTests {
  /// Decodes and returns the error code, or `nil` when decoding succeeded.
  static func failureCode(_ stored: [UInt8], codec: ChunkCodec, byteCount: Int) -> CheckpointError
    .Code?
  {
    do {
      _ = try decode(stored, codec: codec, byteCount: byteCount)
      return nil
    } catch let error as CheckpointError {
      return error.code
    } catch {
      return nil
    }
  }

  static func zstdFrame(of raw: [UInt8]) throws -> [UInt8] {
    try #require(try CodecRoundTripTests.encode(raw, as: .zstd))
  }

  @Test("zstd frame declaring another size", arguments: [-1, 1, 4096])
  func wrongContentSize(difference: Int) throws {
    let raw = CodecSample.floatWeights.bytes(count: 8_192)
    let frame = try Self.zstdFrame(of: raw)
    let code = Self.failureCode(frame, codec: .zstd, byteCount: raw.count + difference)
    #expect(code == .invalidChunk)
  }

  @Test(
    "grouped frame declaring another size",
    arguments: [ChunkCodec.byteGroup2Zstd, .byteGroup4Zstd, .byteGroup8Zstd])
  func groupedWrongSize(codec: ChunkCodec) throws {
    let raw = CodecSample.floatWeights.bytes(count: 8_192)
    let stored = try #require(try CodecRoundTripTests.encode(raw, as: codec))
    #expect(Self.failureCode(stored, codec: codec, byteCount: raw.count - 8) == .invalidChunk)
  }

  @Test("zstd frame without a content size")
  func unknownContentSize() throws {
    // A valid frame header with the single-segment and content-size flags clear, so the size
    // is unknown; the reader must reject it before decompressing.
    let raw = [UInt8](repeating: 7, count: 100)
    var frame = try Self.zstdFrame(of: raw)
    frame[4] = 0x00
    #expect(Self.failureCode(frame, codec: .zstd, byteCount: raw.count) == .invalidChunk)
  }

  @Test("damaged zstd payload")
  func damagedPayload() throws {
    let raw = CodecSample.floatWeights.bytes(count: 65_536)
    let frame = try Self.zstdFrame(of: raw)
    for offset in stride(from: 12, to: frame.count, by: max(1, frame.count / 16)) {
      var damaged = frame
      damaged[offset] ^= 0x5A
      #expect(
        Self.failureCode(damaged, codec: .zstd, byteCount: raw.count) == .invalidChunk,
        "byte \(offset)")
    }
  }

  @Test("raw chunk of the wrong length")
  func rawWrongLength() {
    #expect(Self.failureCode([1, 2, 3], codec: .raw, byteCount: 4) == .invalidChunk)
  }

  @Test("not a zstd frame", arguments: [ChunkCodec.zstd, .byteGroup4Zstd])
  func garbage(codec: ChunkCodec) {
    let stored = CodecSample.randomBytes.bytes(count: 100)
    #expect(Self.failureCode(stored, codec: codec, byteCount: 400) == .invalidChunk)
  }

  /// Returns a valid `bytelanes4` chunk of compressible floats and its raw bytes.
  static func laneChunk() throws -> (stored: [UInt8], raw: [UInt8]) {
    let raw = CodecSample.floatWeights.bytes(count: 4 * 20_000 + 3)
    return (try #require(try CodecRoundTripTests.encode(raw, as: .byteLanes4)), raw)
  }

  @Test("byte-lane header naming a lane twice")
  func duplicateLane() throws {
    var (stored, raw) = try Self.laneChunk()
    stored[ByteLanes.entryByteCount] = stored[0]
    #expect(Self.failureCode(stored, codec: .byteLanes4, byteCount: raw.count) == .invalidChunk)
  }

  @Test("byte-lane header with a lane out of range")
  func laneOutOfRange() throws {
    var (stored, raw) = try Self.laneChunk()
    stored[0] = 4
    #expect(Self.failureCode(stored, codec: .byteLanes4, byteCount: raw.count) == .invalidChunk)
  }

  @Test("byte-lane header with an unknown kind")
  func unknownKind() throws {
    var (stored, raw) = try Self.laneChunk()
    stored[1] = 9
    #expect(Self.failureCode(stored, codec: .byteLanes4, byteCount: raw.count) == .invalidChunk)
  }

  @Test("byte-lane lengths that do not add up", arguments: [-1, 1, 1_000_000])
  func lengthsDoNotAddUp(delta: Int) throws {
    var (stored, raw) = try Self.laneChunk()
    // Change the length of the last entry, which may be raw or zstd.
    let offset = 3 * ByteLanes.entryByteCount + 2
    var length = stored[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
    length += delta
    for index in 0..<4 { stored[offset + index] = UInt8(truncatingIfNeeded: length >> (8 * index)) }
    #expect(Self.failureCode(stored, codec: .byteLanes4, byteCount: raw.count) == .invalidChunk)
  }

  @Test("byte-lane chunk with extra or missing bytes", arguments: [-1, 1])
  func trailingBytes(delta: Int) throws {
    var (stored, raw) = try Self.laneChunk()
    if delta > 0 { stored.append(0) } else { stored.removeLast() }
    #expect(Self.failureCode(stored, codec: .byteLanes4, byteCount: raw.count) == .invalidChunk)
  }

  @Test("byte-lane chunk decoded to another length", arguments: [-4, 4, -1])
  func otherRawLength(delta: Int) throws {
    let (stored, raw) = try Self.laneChunk()
    #expect(
      Self.failureCode(stored, codec: .byteLanes4, byteCount: raw.count + delta) == .invalidChunk)
  }

  @Test("byte-lane chunk shorter than its header", arguments: [0, 5, 23])
  func truncatedHeader(length: Int) throws {
    let (stored, raw) = try Self.laneChunk()
    let code = Self.failureCode(
      Array(stored.prefix(length)), codec: .byteLanes4, byteCount: raw.count)
    #expect(code == .invalidChunk)
  }

  @Test("byte-lane zstd section declaring another size")
  func laneFrameWrongSize() throws {
    // Two lanes of 200 bytes each: lane 0 raw, lane 1 a zstd frame of 199 bytes.
    let laneZero = [UInt8](repeating: 1, count: 200)
    let frame = try Self.zstdFrame(of: [UInt8](repeating: 3, count: 199))
    var stored: [UInt8] = [0, 0, 200, 0, 0, 0, 1, 1]
    stored += withUnsafeBytes(of: UInt32(frame.count).littleEndian, Array.init)
    stored += laneZero + frame
    #expect(Self.failureCode(stored, codec: .byteLanes2, byteCount: 400) == .invalidChunk)
  }

  @Test("damaged byte-lane chunks never crash")
  func damagedLanes() throws {
    let (stored, raw) = try Self.laneChunk()
    for offset in stride(from: 0, to: stored.count, by: max(1, stored.count / 64)) {
      var damaged = stored
      damaged[offset] ^= 0xFF
      // Damage in a raw lane decodes to other bytes; the chunk checksum catches that in the
      // reader. Everything else must be rejected, never trusted.
      if let decoded = try? decode(damaged, codec: .byteLanes4, byteCount: raw.count) {
        #expect(decoded.count == raw.count)
      }
    }
  }

  @Test("byte-lane chunk shorter than one element decodes")
  func emptyLanes() throws {
    // Three bytes of a bytelanes4 chunk make no whole element, so every lane is empty and the
    // bytes are all tail. Empty lanes stored as zstd frames are valid and once crashed the
    // decoder.
    let emptyFrame = try ZstdWorkspace.withBorrowed { workspace in
      var frame = [UInt8](repeating: 0, count: 64)
      let count = try frame.withUnsafeMutableBytes { destination in
        try workspace.compress(
          UnsafeRawBufferPointer(start: nil, count: 0), into: destination, level: 1,
          forcesLiteralCompression: false)
      }
      return Array(frame.prefix(count))
    }
    var stored: [UInt8] = []
    for lane in 0..<4 {
      stored += [UInt8(lane), 1]
      stored += withUnsafeBytes(of: UInt32(emptyFrame.count).littleEndian, Array.init)
    }
    for _ in 0..<4 { stored += emptyFrame }
    stored += [7, 8, 9]

    #expect(try decode(stored, codec: .byteLanes4, byteCount: 3) == [7, 8, 9])
  }

  @Test("zstd frame followed by another frame")
  func trailingFrame() throws {
    let raw = CodecSample.floatWeights.bytes(count: 4_096)
    let frame = try Self.zstdFrame(of: raw)
    let emptyFrame = try Self.zstdFrame(of: [])
    #expect(
      Self.failureCode(frame + emptyFrame, codec: .zstd, byteCount: raw.count) == .invalidChunk)
    #expect(Self.failureCode(frame + [0], codec: .zstd, byteCount: raw.count) == .invalidChunk)
  }
}
