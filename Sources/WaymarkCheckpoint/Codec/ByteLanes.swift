import CZstd

/// The `bytelanesN` codecs: byte grouping by N, then each lane stored on its own, either raw or
/// as its own zstd frame.
///
/// Float weights and optimizer moments have nearly random low bytes and a skewed high byte
/// (sign and exponent). One zstd frame over all lanes spends most of its time failing to
/// compress the random lanes. Here those lanes are copied as they are, and only the lanes that
/// compress go through zstd.
///
/// Stored layout, with `n = floor(L / N)` whole elements in a raw chunk of `L` bytes:
///
/// - A header of N entries of 6 bytes each: lane index (1 byte), kind (1 byte: 0 raw, 1 zstd),
///   stored length (4 bytes, little-endian).
/// - The lane sections, in header order: a raw lane is its `n` bytes, a zstd lane is one zstd
///   frame whose content is those `n` bytes.
/// - The last `L − n·N` raw bytes, unchanged.
enum ByteLanes {
  /// Bytes of one header entry.
  static let entryByteCount = 6

  /// Elements in the prefix that decides which lanes are worth compressing.
  static let sampleElementCount = 16 * 1024

  /// Chunks whose lanes are shorter than this are stored raw without trying zstd, because a
  /// frame's fixed cost (header, block header and checksum) leaves little to gain.
  static let minimumLaneByteCount = 64

  private static let rawKind: UInt8 = 0
  private static let zstdKind: UInt8 = 1

  /// Encodes `raw` as lanes of `width` bytes. Returns `nil` when the result would not save
  /// `minimumSavings` of the raw length, so the caller stores the chunk raw.
  ///
  /// A lane is compressed when zstd saves at least `minimumSavings` both on its first
  /// ``sampleElementCount`` bytes and on the whole lane. Every other lane is stored raw.
  static func encode(
    _ raw: UnsafeRawBufferPointer, width: Int, level: Int32, minimumSavings: Double,
    workspace: ZstdWorkspace
  ) throws -> [UInt8]? {
    let elementCount = raw.count / width
    guard elementCount >= minimumLaneByteCount, let source = raw.baseAddress else { return nil }
    if elementCount <= sampleElementCount {
      return try encodeWhole(
        raw, width: width, level: level, minimumSavings: minimumSavings, workspace: workspace)
    }
    let compressible = try lanesWorthCompressing(
      source, elementCount: elementCount, width: width, level: level,
      minimumSavings: minimumSavings, workspace: workspace)
    guard compressible.contains(true) else { return nil }

    let zstdLanes = (0..<width).filter { compressible[$0] }
    let rawLanes = (0..<width).filter { !compressible[$0] }
    let headerByteCount = width * entryByteCount
    let tailByteCount = raw.count - elementCount * width
    let frameBound = ZSTD_compressBound(elementCount)
    let capacity =
      headerByteCount + rawLanes.count * elementCount + zstdLanes.count
      * max(frameBound, elementCount)
      + tailByteCount
    let limit = Int(Double(raw.count) * (1 - minimumSavings))

    return try workspace.withScratch(byteCount: zstdLanes.count * elementCount) { scratch in
      var fits = false
      let stored = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
        initialized = 0
        let output = UnsafeMutableRawBufferPointer(buffer)
        let base = output.baseAddress!
        // Raw lanes go straight to their final place; lanes to compress go to scratch first.
        var destinations = [UnsafeMutableRawPointer](repeating: base, count: width)
        for (position, lane) in rawLanes.enumerated() {
          destinations[lane] = base + headerByteCount + position * elementCount
        }
        for (position, lane) in zstdLanes.enumerated() {
          destinations[lane] = scratch.baseAddress! + position * elementCount
        }
        ByteGrouping.split(source, elementCount: elementCount, width: width, into: destinations)

        var cursor = headerByteCount
        var entries: [(lane: Int, kind: UInt8, length: Int)] = []
        for lane in rawLanes {
          entries.append((lane, rawKind, elementCount))
          cursor += elementCount
        }
        for (position, lane) in zstdLanes.enumerated() {
          let laneBytes = UnsafeRawBufferPointer(
            start: scratch.baseAddress! + position * elementCount, count: elementCount)
          let length = try workspace.compress(
            laneBytes, into: UnsafeMutableRawBufferPointer(start: base + cursor, count: frameBound),
            level: level, forcesLiteralCompression: true)
          if Double(length) <= Double(elementCount) * (1 - minimumSavings) {
            entries.append((lane, zstdKind, length))
            cursor += length
          } else {
            // The sample promised more than the whole lane delivered.
            (base + cursor).copyMemory(from: laneBytes.baseAddress!, byteCount: elementCount)
            entries.append((lane, rawKind, elementCount))
            cursor += elementCount
          }
        }
        for (index, entry) in entries.enumerated() {
          writeEntry(entry, to: base + index * entryByteCount)
        }
        if tailByteCount > 0 {
          (base + cursor).copyMemory(from: source + elementCount * width, byteCount: tailByteCount)
          cursor += tailByteCount
        }
        fits = cursor <= limit && entries.contains { $0.kind == zstdKind }
        initialized = cursor
      }
      return fits ? stored : nil
    }
  }

  /// Lanes of small chunks measuring at least this many bits per byte are stored raw without a
  /// zstd attempt.
  ///
  /// Random mantissa bytes measure 7.9 to 8.0 bits. The threshold leaves room for data whose
  /// byte histogram is flat but which repeats, which zstd could still shrink: only lanes with
  /// nearly uniform histograms are skipped. Large chunks decide from a zstd sample instead,
  /// whose cost is small against the chunk. The estimate reads at most the first 1,024 bytes
  /// of a lane.
  static let maximumEntropyWorthTrying = 7.9

  /// Encodes a chunk of at most ``sampleElementCount`` elements, where the sample would be
  /// the whole lane: each lane is compressed once and kept raw when that does not pay. Lanes
  /// whose bytes look random skip the attempt.
  private static func encodeWhole(
    _ raw: UnsafeRawBufferPointer, width: Int, level: Int32, minimumSavings: Double,
    workspace: ZstdWorkspace
  ) throws -> [UInt8]? {
    let elementCount = raw.count / width
    let headerByteCount = width * entryByteCount
    let tailByteCount = raw.count - elementCount * width
    let frameBound = ZSTD_compressBound(elementCount)
    let capacity = headerByteCount + width * max(frameBound, elementCount) + tailByteCount
    let limit = Int(Double(raw.count) * (1 - minimumSavings))
    return try workspace.withScratch(byteCount: width * elementCount) { scratch in
      let lanes = (0..<width).map { scratch.baseAddress! + $0 * elementCount }
      ByteGrouping.split(raw.baseAddress!, elementCount: elementCount, width: width, into: lanes)
      var fits = false
      let stored = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
        initialized = 0
        let base = UnsafeMutableRawBufferPointer(buffer).baseAddress!
        var cursor = headerByteCount
        var compressedAny = false
        for (lane, laneStart) in lanes.enumerated() {
          let laneBytes = UnsafeRawBufferPointer(start: laneStart, count: elementCount)
          let looksRandom =
            ByteEntropy.bitsPerByte(UnsafeRawBufferPointer(rebasing: laneBytes.prefix(1024)))
            >= maximumEntropyWorthTrying
          let length =
            looksRandom
            ? nil
            : try workspace.compress(
              laneBytes,
              into: UnsafeMutableRawBufferPointer(start: base + cursor, count: frameBound),
              level: level, forcesLiteralCompression: true)
          if let length, Double(length) <= Double(elementCount) * (1 - minimumSavings) {
            writeEntry((lane, zstdKind, length), to: base + lane * entryByteCount)
            cursor += length
            compressedAny = true
          } else {
            (base + cursor).copyMemory(from: laneStart, byteCount: elementCount)
            writeEntry((lane, rawKind, elementCount), to: base + lane * entryByteCount)
            cursor += elementCount
          }
        }
        if tailByteCount > 0 {
          (base + cursor).copyMemory(
            from: raw.baseAddress! + elementCount * width, byteCount: tailByteCount)
          cursor += tailByteCount
        }
        fits = compressedAny && cursor <= limit
        initialized = cursor
      }
      return fits ? stored : nil
    }
  }

  /// Decodes `stored` into `destination`, whose length is the chunk's raw length.
  ///
  /// - Throws: ``CheckpointError`` with `.invalidChunk` when the header is malformed, names a
  ///   lane twice, declares lengths that do not add up to the stored length, or a frame fails
  ///   to decode to exactly one lane.
  static func decode(
    _ stored: UnsafeRawBufferPointer, width: Int, into destination: UnsafeMutableRawBufferPointer,
    workspace: ZstdWorkspace
  ) throws {
    let elementCount = destination.count / width
    let tailByteCount = destination.count - elementCount * width
    let entries = try parseHeader(stored, width: width, elementCount: elementCount)
    let sectionsEnd =
      width * entryByteCount + entries.reduce(0) { $0 + $1.length } + tailByteCount
    guard sectionsEnd == stored.count else {
      throw CheckpointError(
        .invalidChunk,
        "byte-lane chunk holds \(stored.count) bytes but its header accounts for \(sectionsEnd)")
    }
    guard let output = destination.baseAddress, let input = stored.baseAddress else { return }

    let zstdCount = entries.filter { $0.kind == zstdKind }.count
    try workspace.withScratch(byteCount: zstdCount * elementCount) { scratch in
      var sources = [UnsafeRawPointer](repeating: input, count: width)
      var cursor = width * entryByteCount
      var decoded = 0
      for entry in entries {
        let section = UnsafeRawBufferPointer(start: input + cursor, count: entry.length)
        if entry.kind == rawKind {
          sources[entry.lane] = section.baseAddress!
        } else {
          let lane = UnsafeMutableRawBufferPointer(
            start: scratch.baseAddress! + decoded * elementCount, count: elementCount)
          try workspace.decompress(section, into: lane)
          sources[entry.lane] = UnsafeRawPointer(lane.baseAddress!)
          decoded += 1
        }
        cursor += entry.length
      }
      ByteGrouping.merge(sources, elementCount: elementCount, width: width, into: output)
      if tailByteCount > 0 {
        (output + elementCount * width).copyMemory(from: input + cursor, byteCount: tailByteCount)
      }
    }
  }

  /// Returns, per lane, whether zstd saves `minimumSavings` on a prefix of that lane.
  private static func lanesWorthCompressing(
    _ source: UnsafeRawPointer, elementCount: Int, width: Int, level: Int32,
    minimumSavings: Double, workspace: ZstdWorkspace
  ) throws -> [Bool] {
    let sampleCount = min(elementCount, sampleElementCount)
    let frameBound = ZSTD_compressBound(sampleCount)
    return try workspace.withScratch(byteCount: width * sampleCount + frameBound) { scratch in
      let base = scratch.baseAddress!
      let lanes = (0..<width).map { base + $0 * sampleCount }
      ByteGrouping.split(source, elementCount: sampleCount, width: width, into: lanes)
      let frame = UnsafeMutableRawBufferPointer(
        start: base + width * sampleCount, count: frameBound)
      return try lanes.map { lane in
        let length = try workspace.compress(
          UnsafeRawBufferPointer(start: lane, count: sampleCount), into: frame, level: level,
          forcesLiteralCompression: true)
        return Double(length) <= Double(sampleCount) * (1 - minimumSavings)
      }
    }
  }

  private static func writeEntry(
    _ entry: (lane: Int, kind: UInt8, length: Int), to address: UnsafeMutableRawPointer
  ) {
    address.storeBytes(of: UInt8(entry.lane), as: UInt8.self)
    address.storeBytes(of: entry.kind, toByteOffset: 1, as: UInt8.self)
    address.storeBytes(of: UInt32(entry.length).littleEndian, toByteOffset: 2, as: UInt32.self)
  }

  private static func parseHeader(
    _ stored: UnsafeRawBufferPointer, width: Int, elementCount: Int
  ) throws -> [(lane: Int, kind: UInt8, length: Int)] {
    guard stored.count >= width * entryByteCount else {
      throw CheckpointError(
        .invalidChunk,
        "byte-lane chunk holds \(stored.count) bytes, fewer than its \(width * entryByteCount)-byte header"
      )
    }
    var seen = [Bool](repeating: false, count: width)
    var entries: [(lane: Int, kind: UInt8, length: Int)] = []
    for index in 0..<width {
      let offset = index * entryByteCount
      let lane = Int(stored.load(fromByteOffset: offset, as: UInt8.self))
      let kind = stored.load(fromByteOffset: offset + 1, as: UInt8.self)
      let length = Int(
        UInt32(littleEndian: stored.loadUnaligned(fromByteOffset: offset + 2, as: UInt32.self)))
      guard lane < width, !seen[lane] else {
        throw CheckpointError(
          .invalidChunk, "byte-lane header entry \(index) names lane \(lane) twice or out of range")
      }
      seen[lane] = true
      switch kind {
      case rawKind:
        guard length == elementCount else {
          throw CheckpointError(
            .invalidChunk,
            "raw lane \(lane) holds \(length) bytes but the chunk has \(elementCount) elements")
        }
      case zstdKind:
        guard length > 0 else {
          throw CheckpointError(.invalidChunk, "zstd lane \(lane) has an empty frame")
        }
      default:
        throw CheckpointError(
          .invalidChunk, "byte-lane header gives lane \(lane) unknown kind \(kind)")
      }
      entries.append((lane, kind, length))
    }
    return entries
  }
}
