import Testing
import WaymarkCheckpoint
import WaymarkCore

/// A malformed or malicious `manifest.json` and the error decoding it must raise.
struct HostileManifestCase: Sendable, CustomTestStringConvertible {
  /// What the manifest gets wrong.
  var label: String
  /// The file's bytes.
  var bytes: [UInt8]
  /// Text the message must contain, naming the field or rule.
  var field: String
  /// The expected error code.
  var code: CheckpointError.Code

  var testDescription: String { label }
}

/// Builders for `manifest.json` bytes, valid or deliberately broken.
enum ManifestBytes {
  static let prefix = Array(#"{"checksum":"xxh3-64:"#.utf8)
  static let middle = Array(#"","manifest":"#.utf8)
  static let suffix = Array("}\n".utf8)

  /// Returns a valid manifest: one writer, one 32-byte tensor in two raw chunks.
  static func validManifest() -> Manifest {
    Manifest(
      step: 10, wallTime: 1_700_000_000, metrics: ["loss": 0.5], extraState: ["epoch": 1],
      writers: [WriterEntry(rank: 0, worldSize: 1, host: "node-1", files: ["rank-00000.data"])],
      tensors: [
        TensorEntry(
          name: "layer.weight", dtype: .float32, shape: [4, 2], byteCount: 32,
          chunks: [
            ChunkEntry(
              file: "rank-00000.data", offset: 0, storedByteCount: 16, rawOffset: 0,
              rawByteCount: 16,
              codec: .raw, checksum: "0123456789abcdef"),
            ChunkEntry(
              file: "rank-00000.data", offset: 16, storedByteCount: 16, rawOffset: 16,
              rawByteCount: 16,
              codec: .raw, checksum: "fedcba9876543210"),
          ])
      ])
  }

  /// Returns the valid manifest with two 8-byte tensors packed into one raw pack after the
  /// chunks of the first tensor.
  static func packedManifest() -> Manifest {
    var manifest = validManifest()
    let packed = ["a.bias", "a.scale"].enumerated().map { index, name in
      TensorEntry(
        name: name, dtype: .float32, shape: [2], byteCount: 8, chunks: [],
        pack: PackedLocation(index: 0, rawOffset: Int64(index) * 8))
    }
    manifest.tensors = packed + manifest.tensors
    manifest.packs = [
      ChunkEntry(
        file: "rank-00000.data", offset: 32, storedByteCount: 16, rawOffset: 0, rawByteCount: 16,
        codec: .raw, checksum: "0011223344556677")
    ]
    return manifest
  }

  /// Returns the framed bytes of `manifest` after `mutate` changes it; the encoder signs
  /// the changed body, so validation runs instead of the checksum check.
  static func signed(packed: Bool = false, _ mutate: (inout Manifest) -> Void) -> [UInt8] {
    var manifest = packed ? packedManifest() : validManifest()
    mutate(&manifest)
    return try! ManifestFile.encode(manifest)
  }

  /// Returns the valid manifest's body as text.
  static func validBody() -> String {
    let bytes = try! ManifestFile.encode(validManifest())
    return String(
      decoding: bytes[ManifestFile.bodyOffset..<(bytes.count - suffix.count)], as: UTF8.self)
  }

  /// Frames `body` with a checksum computed over it.
  static func frame(body: String) -> [UInt8] {
    let bodyBytes = Array(body.utf8)
    let checksum = XXH3.hexString(bodyBytes.withUnsafeBytes(XXH3.hash))
    return prefix + Array(checksum.utf8) + middle + bodyBytes + suffix
  }

  /// Returns the valid body with `target` replaced by `replacement`, framed and signed.
  static func resigned(replacing target: String, with replacement: String) -> [UInt8] {
    let body = validBody()
    precondition(body.contains(target), "the valid body has no \(target)")
    return frame(body: body.replacingOccurrences(of: target, with: replacement))
  }
}

extension String {
  fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}

private func signed(
  _ label: String, field: String, code: CheckpointError.Code = .invalidManifest,
  _ mutate: (inout Manifest) -> Void
) -> HostileManifestCase {
  HostileManifestCase(label: label, bytes: ManifestBytes.signed(mutate), field: field, code: code)
}

/// Returns a hostile case made from the manifest with packs, whose tensors 0 and 1 are packed.
private func packed(
  _ label: String, field: String, _ mutate: (inout Manifest) -> Void
) -> HostileManifestCase {
  HostileManifestCase(
    label: label, bytes: ManifestBytes.signed(packed: true, mutate), field: field,
    code: .invalidManifest)
}

private func resigned(
  _ label: String, replacing target: String, with replacement: String, field: String
) -> HostileManifestCase {
  HostileManifestCase(
    label: label, bytes: ManifestBytes.resigned(replacing: target, with: replacement), field: field,
    code: .invalidManifest)
}

private func raw(_ label: String, _ bytes: [UInt8], field: String) -> HostileManifestCase {
  HostileManifestCase(label: label, bytes: bytes, field: field, code: .invalidManifest)
}

private let validBytes = try! ManifestFile.encode(ManifestBytes.validManifest())

private let hostileManifests: [HostileManifestCase] = [
  // Framing and checksum.
  raw("empty file", [], field: "framing"),
  raw("truncated file", Array(validBytes.dropLast(10)), field: "framing"),
  raw("missing final newline", Array(validBytes.dropLast()), field: "framing"),
  raw(
    "wrong hash name", Array(#"{"checksum":"xxh3-32:"#.utf8) + validBytes.dropFirst(21),
    field: "framing"),
  raw(
    "wrong middle",
    Array(validBytes.prefix(37)) + Array(#"","manifesto"#.utf8) + validBytes.dropFirst(50),
    field: "framing"),
  raw(
    "checksum not hexadecimal",
    ManifestBytes.prefix + Array("zzzzzzzzzzzzzzzz".utf8) + validBytes.dropFirst(37),
    field: "16 hexadecimal digits"),
  raw(
    "checksum mismatch",
    validBytes.enumerated().map { $0.offset == 60 ? $0.element ^ 0x01 : $0.element },
    field: "checksum mismatch"),
  raw("body not JSON", ManifestBytes.frame(body: "{"), field: "manifest JSON is invalid"),
  raw("body a JSON array", ManifestBytes.frame(body: "[]"), field: "manifest JSON is invalid"),

  // Version.
  signed("format version 3", field: "format version 3", code: .unsupportedVersion) {
    $0.formatVersion = 3
  },
  signed("format version 0", field: "format version 0", code: .unsupportedVersion) {
    $0.formatVersion = 0
  },
  signed("negative format version", field: "format version -1", code: .unsupportedVersion) {
    $0.formatVersion = -1
  },

  // Top-level values.
  signed("negative step", field: "step is -1") { $0.step = -1 },
  signed("infinite wall time", field: "wallTime") { $0.wallTime = .infinity },

  // Tensor names.
  signed("tensor name with a .. component", field: "tensors[].name") {
    $0.tensors[0].name = "a/../b"
  },
  signed("tensor name that is ..", field: "tensors[].name") { $0.tensors[0].name = ".." },
  signed("tensor name with NUL", field: "tensors[].name") { $0.tensors[0].name = "a\u{0}b" },
  signed("absolute tensor name", field: "tensors[].name") { $0.tensors[0].name = "/etc/passwd" },
  signed("empty tensor name", field: "tensors[].name") { $0.tensors[0].name = "" },
  signed("tensor name over 1,024 bytes", field: "tensors[].name") {
    $0.tensors[0].name = String(repeating: "n", count: 1025)
  },
  signed("duplicate tensor names", field: "appears twice") { $0.tensors.append($0.tensors[0]) },

  // Data file names.
  signed("data file name with a slash", field: "data file name") {
    $0.writers[0].files = ["sub/rank-00000.data"]
  },
  signed("data file name ..", field: "data file name") { $0.writers[0].files = [".."] },
  signed("data file name with a leading dot", field: "data file name") {
    $0.writers[0].files = [".hidden"]
  },
  signed("absolute data file name", field: "data file name") {
    $0.writers[0].files = ["/etc/passwd"]
  },
  signed("empty data file name", field: "data file name") { $0.writers[0].files = [""] },
  signed("data file listed twice", field: "more than one writer") {
    $0.writers.append(
      WriterEntry(rank: 1, worldSize: 2, host: "node-2", files: ["rank-00000.data"]))
    $0.writers[0].worldSize = 2
  },
  signed("chunk naming an unlisted data file", field: "which no writer lists") {
    $0.tensors[0].chunks[1].file = "other.data"
  },
  signed("chunk naming a path outside the checkpoint", field: "which no writer lists") {
    $0.tensors[0].chunks[1].file = "../../etc/passwd"
  },
  signed("writer rank outside the world size", field: "rank 1 is outside world size 1") {
    $0.writers[0].rank = 1
  },

  // Shapes and sizes.
  signed("overflowing shape", field: "shape") { $0.tensors[0].shape = [Int.max, 2] },
  signed("overflowing shape times dtype width", field: "byteCount") {
    $0.tensors[0].shape = [Int.max / 2]
  },
  signed("negative dimension", field: "negative dimension") { $0.tensors[0].shape = [-4, -2] },
  signed("byte count not matching the shape", field: "byteCount is 32") {
    $0.tensors[0].shape = [4, 3]
  },

  // Chunk ranges.
  signed("overlapping chunk raw offsets", field: "raw offset 8") {
    $0.tensors[0].chunks[1].rawOffset = 8
  },
  signed("gap between chunk raw offsets", field: "raw offset 20") {
    $0.tensors[0].chunks[1].rawOffset = 20
  },
  signed("negative chunk raw offset", field: "raw offset -16") {
    $0.tensors[0].chunks[1].rawOffset = -16
  },
  signed("chunks out of order", field: "raw offset 16") { $0.tensors[0].chunks.reverse() },
  signed("chunks covering less than the tensor", field: "chunks cover 16 of the tensor's 32 bytes")
  {
    $0.tensors[0].chunks.removeLast()
  },
  signed("chunks covering more than the tensor", field: "chunks hold more") {
    var extra = $0.tensors[0].chunks[1]
    extra.rawOffset = 32
    extra.offset = 32
    $0.tensors[0].chunks.append(extra)
  },
  signed("negative chunk file offset", field: "offset -1") { $0.tensors[0].chunks[0].offset = -1 },
  signed("negative stored length", field: "stored length -16") {
    $0.tensors[0].chunks[0].storedByteCount = -16
  },
  signed("chunk end past Int64.max", field: "stored length") {
    $0.tensors[0].chunks[0].offset = .max - 4
  },
  signed("decompression bomb raw length", field: "raw length 1099511627776") {
    $0.tensors[0] = TensorEntry(
      name: "bomb", dtype: .uint8, shape: [1 << 40], byteCount: 1 << 40,
      chunks: [
        ChunkEntry(
          file: "rank-00000.data", offset: 0, storedByteCount: 64, rawOffset: 0,
          rawByteCount: 1 << 40,
          codec: .zstd, checksum: "0123456789abcdef")
      ])
  },
  signed("zero raw length", field: "raw length 0") {
    $0.tensors[0] = TensorEntry(
      name: "w", dtype: .float32, shape: [0], byteCount: 0,
      chunks: [
        ChunkEntry(
          file: "rank-00000.data", offset: 0, storedByteCount: 0, rawOffset: 0, rawByteCount: 0,
          codec: .raw, checksum: "0123456789abcdef")
      ])
  },
  signed("raw codec length mismatch", field: "raw chunk 0 stores 8 bytes but declares 16") {
    $0.tensors[0].chunks[0].storedByteCount = 8
  },
  signed("chunk checksum not hexadecimal", field: "checksum 'not-a-checksum!!'") {
    $0.tensors[0].chunks[0].checksum = "not-a-checksum!!"
  },

  // Packs of small tensors.
  packed("packs in format version 1", field: "packs need version 2") { $0.formatVersion = 1 },
  packed("pack index out of range", field: "names pack 5, but the manifest has 1 packs") {
    $0.tensors[1].pack?.index = 5
  },
  packed("negative pack index", field: "names pack -1") { $0.tensors[0].pack?.index = -1 },
  packed("misaligned tensor in a pack", field: "raw offset 6 in pack 0 is not a multiple") {
    $0.tensors[1].pack?.rawOffset = 6
  },
  packed("packed tensors overlap", field: "starts at raw offset 0 of pack 0") {
    $0.tensors[1].pack?.rawOffset = 0
  },
  packed("gap in a pack", field: "starts at raw offset 12 of pack 0") {
    $0.tensors[1].pack?.rawOffset = 12
  },
  packed("negative offset in a pack", field: "starts at raw offset -8 of pack 0") {
    $0.tensors[0].pack?.rawOffset = -8
  },
  packed("pack longer than its tensors", field: "pack 0 declares 24 raw bytes") {
    $0.packs[0].rawByteCount = 24
    $0.packs[0].storedByteCount = 24
  },
  packed("tensor past the end of its pack", field: "run past the end of pack 0") {
    $0.packs[0].rawByteCount = 12
    $0.packs[0].storedByteCount = 12
  },
  packed("huge tensor in a pack", field: "run past the end of pack 0") {
    $0.tensors[1].shape = [1 << 60]
    $0.tensors[1].byteCount = 1 << 62
  },
  packed("pack with no tensors", field: "pack 1 declares 8 raw bytes, but its tensors hold 0") {
    var empty = $0.packs[0]
    empty.rawByteCount = 8
    empty.storedByteCount = 8
    $0.packs.append(empty)
  },
  packed("pack raw offset", field: "a pack's is always 0") { $0.packs[0].rawOffset = 4 },
  packed("pack names an unlisted file", field: "pack 0 names data file 'other.data'") {
    $0.packs[0].file = "other.data"
  },
  packed("pack checksum", field: "pack 0 checksum 'xyz'") { $0.packs[0].checksum = "xyz" },
  packed("uppercase pack checksum", field: "not 16 lowercase hexadecimal digits") {
    $0.packs[0].checksum = "00112233445566AA"
  },
  packed("pack stored length near Int64.max", field: "pack 0 declares stored length") {
    $0.packs[0].offset = 0
    $0.packs[0].storedByteCount = 9_223_372_036_854_775_707
  },
  signed("chunk stored length beyond the bound", field: "chunk 0 declares stored length") {
    $0.tensors[0].chunks[0].storedByteCount = 1 << 40
  },
  packed("packed tensor with chunks", field: "a packed tensor has no chunks of its own") {
    $0.tensors[0].chunks = $0.tensors[2].chunks
  },
  packed("packed empty tensor", field: "an empty tensor is never packed") {
    $0.tensors[0].shape = [0]
    $0.tensors[0].byteCount = 0
  },

  // JSON the encoder cannot produce, signed after editing the text.
  resigned(
    "dimension beyond Int64", replacing: #""shape":[4,2]"#,
    with: #""shape":[99999999999999999999,2]"#,
    field: "manifest JSON is invalid"),
  resigned(
    "fractional dimension", replacing: #""shape":[4,2]"#, with: #""shape":[4.5,2]"#,
    field: "manifest JSON is invalid"),
  resigned(
    "dimension a string", replacing: #""shape":[4,2]"#, with: #""shape":["4",2]"#,
    field: "tensors[0].shape[0]"),
  resigned(
    "packs null", replacing: #""step":10"#, with: #""packs":null,"step":10"#, field: "packs"),
  resigned(
    "pack location null", replacing: #""name":"layer.weight""#,
    with: #""name":"layer.weight","pack":null"#, field: "pack"),
  resigned("unknown dtype", replacing: #""dtype":"f32""#, with: #""dtype":"f128""#, field: "dtype"),
  resigned("unknown codec", replacing: #""codec":"raw""#, with: #""codec":"lz4""#, field: "codec"),
  resigned("missing step", replacing: #""step":10,"#, with: "", field: "step"),
  resigned("step as a string", replacing: #""step":10"#, with: #""step":"10""#, field: "step"),
]

@Suite("Hostile manifests")
struct HostileManifestTests {
  @Test("valid manifest decodes")
  func validManifest() throws {
    #expect(try ManifestFile.decode(validBytes) == ManifestBytes.validManifest())
    #expect(
      try ManifestFile.decode(ManifestBytes.frame(body: ManifestBytes.validBody()))
        == ManifestBytes.validManifest())
  }

  @Test("hostile manifest rejected naming field", arguments: hostileManifests)
  func hostileManifest(_ hostile: HostileManifestCase) throws {
    let error = try #require(throws: CheckpointError.self) {
      try ManifestFile.decode(hostile.bytes)
    }
    #expect(error.code == hostile.code)
    #expect(error.message.contains(hostile.field), "message: \(error.message)")
  }

  @Test("manifest with packs decodes")
  func packedManifest() throws {
    let manifest = ManifestBytes.packedManifest()
    #expect(try ManifestFile.decode(try ManifestFile.encode(manifest)) == manifest)
  }

  @Test("manifest over 256 MiB rejected")
  func oversizedManifest() throws {
    let bytes = [UInt8](repeating: 0x20, count: ManifestFile.maxByteCount + 1)
    let error = try #require(throws: CheckpointError.self) { try ManifestFile.decode(bytes) }
    #expect(error.code == .invalidManifest)
    #expect(error.message.contains("exceeds the limit"))
  }

  @Test(
    "unrepresentable number names field",
    arguments: [#""shape":[99999999999999999999,2]"#, #""shape":[4.5,2]"#])
  func unrepresentableNumber(replacement: String) throws {
    let bytes = ManifestBytes.resigned(replacing: #""shape":[4,2]"#, with: replacement)
    let error = try #require(throws: CheckpointError.self) { try ManifestFile.decode(bytes) }
    #expect(error.code == .invalidManifest)
    #expect(error.message.contains("shape"), "message: \(error.message)")
  }

  @Test("duplicate JSON keys rejected")
  func duplicateJSONKeys() throws {
    let bytes = ManifestBytes.resigned(replacing: #""step":10"#, with: #""step":10,"step":99"#)
    let error = try #require(throws: CheckpointError.self) { try ManifestFile.decode(bytes) }
    #expect(error.code == .invalidManifest)
    #expect(error.message.contains("step"), "message: \(error.message)")
  }

  @Test("duplicate keys in nested objects rejected")
  func duplicateNestedJSONKeys() throws {
    let bytes = ManifestBytes.resigned(
      replacing: #""codec":"raw""#, with: #""codec":"raw","codec":"zstd""#)
    let error = try #require(throws: CheckpointError.self) { try ManifestFile.decode(bytes) }
    #expect(error.code == .invalidManifest)
    #expect(error.message.contains("codec"), "message: \(error.message)")
  }
}
