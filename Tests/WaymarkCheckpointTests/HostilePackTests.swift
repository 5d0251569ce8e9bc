import Foundation
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

/// A manifest edit that breaks one pack rule of docs/FORMAT.md, with a phrase the rejection
/// message must contain.
struct PackRuleBreak: Sendable, CustomTestStringConvertible {
  var name: String
  var expectedPhrase: String
  var apply: @Sendable (inout Manifest) -> Void

  var testDescription: String { name }

  /// A valid version 2 manifest: f32 tensors "a" (12 bytes) and "b" (8 bytes) share pack 0 of
  /// 20 raw bytes, and f64 tensor "c" has one chunk of its own.
  static func validManifest() -> Manifest {
    let chunk = ChunkEntry(
      file: "rank-00000.data", offset: 0, storedByteCount: 16, rawOffset: 0, rawByteCount: 16,
      codec: .raw, checksum: "0123456789abcdef")
    let pack = ChunkEntry(
      file: "rank-00000.data", offset: 16, storedByteCount: 20, rawOffset: 0, rawByteCount: 20,
      codec: .raw, checksum: "fedcba9876543210")
    return Manifest(
      step: 3, wallTime: 1_700_000_000.5, metrics: ["loss": 0.5], extraState: ["epoch": 1],
      writers: [WriterEntry(rank: 0, worldSize: 1, host: "h", files: ["rank-00000.data"])],
      tensors: [
        TensorEntry(
          name: "a", dtype: .float32, shape: [3], byteCount: 12, chunks: [],
          pack: PackedLocation(index: 0, rawOffset: 0)),
        TensorEntry(
          name: "b", dtype: .float32, shape: [2], byteCount: 8, chunks: [],
          pack: PackedLocation(index: 0, rawOffset: 12)),
        TensorEntry(name: "c", dtype: .float64, shape: [2], byteCount: 16, chunks: [chunk]),
      ],
      packs: [pack])
  }

  static let all: [PackRuleBreak] = [
    PackRuleBreak(name: "overlapping tensors", expectedPhrase: "without gaps or overlap") {
      $0.tensors[1].pack?.rawOffset = 8
    },
    PackRuleBreak(name: "two tensors at one offset", expectedPhrase: "without gaps or overlap") {
      $0.tensors[1].pack?.rawOffset = 0
    },
    PackRuleBreak(name: "gap between tensors", expectedPhrase: "without gaps or overlap") {
      $0.tensors[1].pack?.rawOffset = 16
      $0.packs[0].rawByteCount = 24
      $0.packs[0].storedByteCount = 24
    },
    PackRuleBreak(name: "pack longer than its tensors", expectedPhrase: "but its tensors hold 20") {
      $0.packs[0].rawByteCount = 24
      $0.packs[0].storedByteCount = 24
    },
    PackRuleBreak(
      name: "pack shorter than its tensors", expectedPhrase: "run past the end of pack 0"
    ) {
      $0.packs[0].rawByteCount = 16
      $0.packs[0].storedByteCount = 16
    },
    PackRuleBreak(
      name: "f64 misaligned after f32", expectedPhrase: "is not a multiple of the 8-byte width"
    ) {
      $0.tensors[1] = TensorEntry(
        name: "b", dtype: .float64, shape: [1], byteCount: 8, chunks: [],
        pack: PackedLocation(index: 0, rawOffset: 12))
    },
    PackRuleBreak(
      name: "pack index out of range", expectedPhrase: "names pack 1, but the manifest has 1 packs"
    ) {
      $0.tensors[1].pack?.index = 1
    },
    PackRuleBreak(name: "negative pack index", expectedPhrase: "names pack -1") {
      $0.tensors[1].pack?.index = -1
    },
    PackRuleBreak(
      name: "pack no tensor names",
      expectedPhrase: "pack 1 declares 20 raw bytes, but its tensors hold 0"
    ) {
      $0.packs.append($0.packs[0])
    },
    PackRuleBreak(
      name: "huge raw length", expectedPhrase: "declares raw length 9223372036854775807"
    ) {
      $0.packs[0].rawByteCount = .max
    },
    PackRuleBreak(name: "negative raw length", expectedPhrase: "declares raw length -20") {
      $0.packs[0].rawByteCount = -20
    },
    PackRuleBreak(name: "stored range overflows", expectedPhrase: "both must be zero or positive") {
      $0.packs[0].codec = .zstd
      $0.packs[0].storedByteCount = .max
    },
    PackRuleBreak(name: "negative offset", expectedPhrase: "both must be zero or positive") {
      $0.packs[0].offset = -1
    },
    PackRuleBreak(
      name: "packed tensor of huge byteCount", expectedPhrase: "run past the end of pack 0"
    ) {
      $0.tensors[1].shape = [2_305_843_009_213_693_951]
      $0.tensors[1].byteCount = 9_223_372_036_854_775_804
    },
    PackRuleBreak(name: "packs in version 1", expectedPhrase: "packs need version 2") {
      $0.formatVersion = 1
    },
    PackRuleBreak(name: "packed tensor with chunks", expectedPhrase: "has no chunks of its own") {
      $0.tensors[1].chunks = [$0.packs[0]]
    },
    PackRuleBreak(name: "empty packed tensor", expectedPhrase: "an empty tensor is never packed") {
      $0.tensors[1].shape = [0]
      $0.tensors[1].byteCount = 0
    },
    PackRuleBreak(name: "pack with raw offset", expectedPhrase: "a pack's is always 0") {
      $0.packs[0].rawOffset = 4
    },
    PackRuleBreak(name: "pack in unlisted file", expectedPhrase: "which no writer lists") {
      $0.packs[0].file = "rank-00001.data"
    },
    PackRuleBreak(name: "pack file outside checkpoint", expectedPhrase: "which no writer lists") {
      $0.packs[0].file = "../step-000000000001/rank-00000.data"
    },
    PackRuleBreak(
      name: "pack checksum not hex", expectedPhrase: "is not 16 lowercase hexadecimal digits"
    ) {
      $0.packs[0].checksum = "zz"
    },
  ]
}

/// A byte-lane header edit that makes its lengths, lanes or kinds disagree with the rules.
struct LaneHeaderLie: Sendable, CustomTestStringConvertible {
  var name: String
  var apply: @Sendable (inout [UInt8]) -> Void

  var testDescription: String { name }

  static let all: [LaneHeaderLie] = [
    LaneHeaderLie(name: "lane 0 one byte longer") { stored in
      stored[2] &+= 1
    },
    LaneHeaderLie(name: "last lane 4 GiB long") { stored in
      stored.replaceSubrange(20..<24, with: [0xFF, 0xFF, 0xFF, 0xFF])
    },
    LaneHeaderLie(name: "lane named twice") { stored in
      stored[6] = stored[0]
    },
    LaneHeaderLie(name: "lane out of range") { stored in
      stored[0] = 200
    },
    LaneHeaderLie(name: "unknown kind") { stored in
      stored[1] = 2
    },
    LaneHeaderLie(name: "lane kind switched") { stored in
      stored[1] ^= 1
    },
    LaneHeaderLie(name: "last section cut short") { stored in
      stored.removeLast()
    },
  ]
}

@Suite("Hostile packs")
struct HostilePackTests {
  // MARK: Helpers

  private static let dataFile = "rank-00000.data"

  /// Returns 12 small f32 tensors of smooth values, which Waymark packs together, and one
  /// i64 tensor, which goes to a pack of its own dtype.
  private static func smallState() throws -> TrainingState {
    var tensors: [String: Tensor] = [:]
    for index in 0..<12 {
      let count = 80 + index * 7
      tensors[String(format: "layer.%02d.bias", index)] = try Tensor(
        (0..<count).map { Float(index) + Float($0) * 0.25 }, shape: [count])
    }
    tensors["step.counts"] = try Tensor([Int64(1), 2, 3], shape: [3])
    return TrainingState(tensors: tensors, extraState: ["epoch": 2])
  }

  private static func save(
    _ state: TrainingState, in directory: String, codec: CodecPolicy = .default
  ) async throws -> String {
    var options = CheckpointManager.Options()
    options.codec = codec
    let manager = try await CheckpointManager(directory: directory, options: options)
    let committed = try await manager.waitForCommit(of: manager.save(step: 9, state: state))
    try await manager.close()
    return committed.path
  }

  /// Writes `manifest` to the checkpoint at `path`, signed with a matching checksum.
  private static func writeManifest(_ manifest: Manifest, at path: String) throws {
    let bytes = try ManifestFile.encode(manifest)
    try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + ManifestFile.fileName))
  }

  /// Appends `stored` to the data file and points pack `index` at it with a fresh checksum.
  private static func replacePack(
    _ index: Int, of manifest: inout Manifest, at path: String, stored: [UInt8],
    codec: ChunkCodec
  ) throws {
    let url = URL(fileURLWithPath: path + "/" + manifest.packs[index].file)
    let handle = try FileHandle(forUpdating: url)
    defer { try? handle.close() }
    let offset = try handle.seekToEnd()
    try handle.write(contentsOf: Data(stored))
    manifest.packs[index].offset = Int64(offset)
    manifest.packs[index].storedByteCount = Int64(stored.count)
    manifest.packs[index].codec = codec
    manifest.packs[index].checksum = XXH3.hexString(XXH3.hash(stored))
    try writeManifest(manifest, at: path)
  }

  private static func storedBytes(of chunk: ChunkEntry, at path: String) throws -> [UInt8] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path + "/" + chunk.file))
    let start = Int(chunk.offset)
    return Array(data[start..<(start + Int(chunk.storedByteCount))])
  }

  /// Loads `path` and checks that it fails with `code`, naming pack `pack` and its tensors.
  private static func expectLoadFailure(
    at path: String, code: CheckpointError.Code, pack: Int
  ) async {
    let error = await #expect(throws: CheckpointError.self) {
      try await CheckpointReader().load(checkpointAt: path)
    }
    #expect(error?.code == code)
    #expect(error?.pack == pack)
    #expect(error?.message.hasPrefix("pack \(pack) (tensors ") == true)
  }

  // MARK: Pack rules

  @Test("broken pack rule is rejected", arguments: PackRuleBreak.all)
  func brokenRule(_ rule: PackRuleBreak) throws {
    _ = try ManifestFile.decode(try ManifestFile.encode(PackRuleBreak.validManifest()))
    var manifest = PackRuleBreak.validManifest()
    rule.apply(&manifest)
    let bytes = try ManifestFile.encode(manifest)

    let error = #expect(throws: CheckpointError.self) { _ = try ManifestFile.decode(bytes) }
    #expect(error?.code == .invalidManifest)
    #expect(
      error?.message.contains(rule.expectedPhrase) == true,
      "message: \(error?.message ?? "none")")
  }

  @Test("aligned mixed-dtype pack loads")
  func mixedDtypePack() async throws {
    try await withTemporaryDirectory { directory in
      // The format requires only that each offset be a multiple of the tensor's dtype width, so
      // a pack written by another writer may mix dtypes.
      let members: [(name: String, dtype: DType, shape: [Int], bytes: [UInt8])] = [
        ("a.f64", .float64, [2], (0..<16).map { UInt8($0 * 3) }),
        ("b.f32", .float32, [3], (0..<12).map { UInt8(100 + $0) }),
        ("c.i16", .int16, [1], [0xF9, 0xFF]),
        ("d.u8", .uint8, [3], [9, 8, 7]),
        ("e.bool", .bool, [2], [0, 1]),
      ]
      let path = directory + "/step-000000000001"
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      let raw = members.flatMap(\.bytes)
      try Data(raw).write(to: URL(fileURLWithPath: path + "/" + Self.dataFile))

      var offset: Int64 = 0
      var tensors: [TensorEntry] = []
      for member in members {
        tensors.append(
          TensorEntry(
            name: member.name, dtype: member.dtype, shape: member.shape,
            byteCount: Int64(member.bytes.count), chunks: [],
            pack: PackedLocation(index: 0, rawOffset: offset)))
        offset += Int64(member.bytes.count)
      }
      let pack = ChunkEntry(
        file: Self.dataFile, offset: 0, storedByteCount: Int64(raw.count), rawOffset: 0,
        rawByteCount: Int64(raw.count), codec: .raw, checksum: XXH3.hexString(XXH3.hash(raw)))
      let manifest = Manifest(
        step: 1, wallTime: 0, metrics: [:], extraState: .null,
        writers: [WriterEntry(rank: 0, worldSize: 1, host: "h", files: [Self.dataFile])],
        tensors: tensors, packs: [pack])
      try Self.writeManifest(manifest, at: path)

      let loaded = try await CheckpointReader().load(checkpointAt: path)
      for member in members {
        #expect(loaded.state.tensors[member.name]?.bytes == member.bytes, "\(member.name)")
      }
      #expect(await CheckpointVerifier().verifyCheckpoint(at: path).isIntact)
    }
  }

  // MARK: Damaged pack data

  @Test(
    "relabelled pack codec fails to decode",
    arguments: [
      ChunkCodec.zstd, .byteGroup4Zstd, .byteGroup8Zstd, .byteLanes2, .byteLanes4, .byteLanes8,
    ])
  func relabelledCodec(_ codec: ChunkCodec) async throws {
    try await withTemporaryDirectory { directory in
      let path = try await Self.save(try Self.smallState(), in: directory, codec: .raw)
      var manifest = try await CheckpointReader().manifest(ofCheckpointAt: path)
      let index = try #require(manifest.packs.firstIndex { $0.rawByteCount > 1_000 })
      try #require(manifest.packs[index].codec == .raw)
      manifest.packs[index].codec = codec
      try Self.writeManifest(manifest, at: path)

      await Self.expectLoadFailure(at: path, code: .invalidChunk, pack: index)
      let verification = await CheckpointVerifier().verifyCheckpoint(at: path)
      #expect(verification.problems.map(\.pack) == [index])
      #expect(verification.problems.first?.code == "invalidChunk")
    }
  }

  @Test("lying byte-lane header is rejected", arguments: LaneHeaderLie.all)
  func lyingLaneHeader(_ lie: LaneHeaderLie) async throws {
    try await withTemporaryDirectory { directory in
      let path = try await Self.save(try Self.smallState(), in: directory)
      var manifest = try await CheckpointReader().manifest(ofCheckpointAt: path)
      let index = try #require(manifest.packs.firstIndex { $0.codec == .byteLanes4 })
      var stored = try Self.storedBytes(of: manifest.packs[index], at: path)
      lie.apply(&stored)
      try Self.replacePack(index, of: &manifest, at: path, stored: stored, codec: .byteLanes4)

      await Self.expectLoadFailure(at: path, code: .invalidChunk, pack: index)
      let verification = await CheckpointVerifier().verifyCheckpoint(at: path)
      #expect(verification.problems.map(\.pack) == [index])
    }
  }

  @Test("reordered byte-lane sections load")
  func reorderedLaneSections() async throws {
    try await withTemporaryDirectory { directory in
      // Readers must follow the header, whatever order the sections are in.
      let state = try Self.smallState()
      let path = try await Self.save(state, in: directory)
      var manifest = try await CheckpointReader().manifest(ofCheckpointAt: path)
      let index = try #require(manifest.packs.firstIndex { $0.codec == .byteLanes4 })
      let stored = try Self.storedBytes(of: manifest.packs[index], at: path)

      var sections: [[UInt8]] = []
      var cursor = 24
      for entry in 0..<4 {
        let length = stored[(entry * 6 + 2)..<(entry * 6 + 6)].reversed()
          .reduce(0) { $0 << 8 | Int($1) }
        sections.append(Array(stored[cursor..<(cursor + length)]))
        cursor += length
      }
      let tail = Array(stored[cursor...])
      var reordered: [UInt8] = []
      for entry in (0..<4).reversed() {
        reordered += stored[(entry * 6)..<(entry * 6 + 6)]
      }
      for entry in (0..<4).reversed() {
        reordered += sections[entry]
      }
      reordered += tail
      try Self.replacePack(index, of: &manifest, at: path, stored: reordered, codec: .byteLanes4)

      let loaded = try await CheckpointReader().load(checkpointAt: path)
      #expect(loaded.state.tensors == state.tensors)
    }
  }

  // MARK: Shared pack memory

  @Test("loaded packed tensors stay independent values")
  func sharedPackMemory() async throws {
    try await withTemporaryDirectory { directory in
      let state = try Self.smallState()
      let path = try await Self.save(state, in: directory + "/first")
      let loaded = try await CheckpointReader().load(checkpointAt: path)
      let manifest = loaded.manifest
      let packed = manifest.tensors.filter { $0.pack != nil }
      try #require(packed.count == state.tensors.count)

      // Each packed tensor's bytes are exactly its own range of the pack, aligned for its dtype,
      // and no two ranges overlap.
      var ranges: [(name: String, range: Range<UInt>)] = []
      for entry in packed {
        let tensor = try #require(loaded.state.tensors[entry.name])
        let (address, count) = tensor.withUnsafeBytes {
          (UInt(bitPattern: $0.baseAddress), $0.count)
        }
        #expect(count == Int(entry.byteCount), "\(entry.name)")
        #expect(address % UInt(entry.dtype.byteWidth) == 0, "\(entry.name) is misaligned")
        ranges.append((entry.name, address..<(address + UInt(count))))
      }
      for (position, first) in ranges.enumerated() {
        for second in ranges[(position + 1)...] {
          #expect(!first.range.overlaps(second.range), "\(first.name) overlaps \(second.name)")
        }
      }

      // Changing a copy of one tensor's elements and building a new tensor from it leaves the
      // loaded neighbors and the original untouched.
      let first = try #require(loaded.state.tensors["layer.00.bias"])
      var values = try first.scalars(as: Float.self)
      for position in values.indices { values[position] = -1 }
      var replaced = loaded.state
      replaced.tensors["layer.00.bias"] = try Tensor(values, shape: first.shape)
      var bytes = first.bytes
      bytes[0] ^= 0xFF
      _ = try Tensor(bytes: bytes, dtype: first.dtype, shape: first.shape)
      #expect(loaded.state.tensors == state.tensors)

      // Saving the loaded tensors, which share pack memory, writes the same values back.
      let secondPath = try await Self.save(replaced, in: directory + "/second")
      let reloaded = try await CheckpointReader().load(checkpointAt: secondPath)
      #expect(reloaded.state.tensors == replaced.tensors)
      #expect(reloaded.state.tensors["layer.01.bias"] == state.tensors["layer.01.bias"])
      #expect(try reloaded.state.tensors["layer.00.bias"]?.scalars(as: Float.self) == values)
    }
  }

  // MARK: Manifest JSON readers

  /// Returns a description of how the fast reader and the Foundation reader disagree on
  /// `body`, or `nil` when the fast reader declines or both return the same manifest.
  private static func disagreement(_ body: [UInt8]) -> String? {
    guard let fast = body.withUnsafeBytes(ManifestJSON.decode) else { return nil }
    let slow: Manifest
    do {
      slow = try ManifestFile.decodeDiagnosing(body[...])
    } catch {
      return "the fast reader accepted a body Foundation rejects: \(error)"
    }
    var differences: [String] = []
    if fast.formatVersion != slow.formatVersion { differences.append("formatVersion") }
    if fast.step != slow.step { differences.append("step") }
    if fast.wallTime != slow.wallTime { differences.append("wallTime") }
    if fast.metrics != slow.metrics { differences.append("metrics") }
    if fast.extraState != slow.extraState { differences.append("extraState") }
    if fast.writers != slow.writers { differences.append("writers") }
    if fast.tensors != slow.tensors { differences.append("tensors") }
    if fast.packs != slow.packs { differences.append("packs") }
    return differences.isEmpty
      ? nil : "the readers differ in " + differences.joined(separator: ", ")
  }

  private static let hostileBodyEdits: [(name: String, target: String, replacement: String)] = [
    ("escaped duplicate pack index", #""index":0"#, #""index":0,"ind\u0065x":1"#),
    (
      "duplicate pack raw offset", #""index":0,"rawOffset":0"#,
      #""index":0,"rawOffset":0,"rawOffset":0"#
    ),
    ("escaped duplicate packs key", #""packs":["#, #""packs":[],"p\u0061cks":["#),
    ("escaped duplicate pack key", #""name":"a","pack""#, #""name":"a","p\u0061ck":null,"pack""#),
    (
      "escaped duplicate pack codec", #""codec":"raw","file":"rank-00000.data","offset":16"#,
      #""codec":"raw","c\u006fdec":"zstd","file":"rank-00000.data","offset":16"#
    ),
    (
      "escaped pack location keys", #""index":0,"rawOffset":0"#,
      #""\u0069ndex":0,"raw\u004fffset":0"#
    ),
    ("pack location keys reversed", #""index":0,"rawOffset":12"#, #""rawOffset":12,"index":0"#),
    (
      "unknown nested key in pack location", #""index":0,"rawOffset":0"#,
      #""index":0,"extra":{"a":[[[{"b":[1,2,{"c":null}]}]]]},"rawOffset":0"#
    ),
    // A pack object is nested 3 deep, so 253 more arrays reach the nesting limit of 256 and
    // 254 exceed it.
    (
      "unknown key 253 levels deep in pack", #""codec":"raw","file":"rank-00000.data","offset":16"#,
      #""codec":"raw","zz":"# + String(repeating: "[", count: 253)
        + String(repeating: "]", count: 253)
        + #","file":"rank-00000.data","offset":16"#
    ),
    (
      "unknown key 254 levels deep in pack", #""codec":"raw","file":"rank-00000.data","offset":16"#,
      #""codec":"raw","zz":"# + String(repeating: "[", count: 254)
        + String(repeating: "]", count: 254)
        + #","file":"rank-00000.data","offset":16"#
    ),
    ("packs null", #""packs":["#, #""packs":null,"zpacks":["#),
    ("pack null", #""name":"c""#, #""name":"c","pack":null"#),
    ("pack index as float", #""index":0"#, #""index":0.0"#),
    ("pack index beyond Int64", #""index":0"#, #""index":9223372036854775808"#),
    (
      "pack raw offset beyond UInt64", #""index":0,"rawOffset":0"#,
      #""index":0,"rawOffset":18446744073709551616"#
    ),
    ("pack raw length 1e400", #""rawByteCount":20"#, #""rawByteCount":1e400"#),
    ("pack raw length as string", #""rawByteCount":20"#, #""rawByteCount":"20""#),
    (
      "lone high surrogate in pack file", #""file":"rank-00000.data","offset":16"#,
      #""file":"\ud800","offset":16"#
    ),
    (
      "lone low surrogate in pack checksum", #""checksum":"fedcba9876543210""#,
      #""checksum":"\udc00""#
    ),
    ("lone surrogate as unknown key", #""index":0"#, #""index":0,"\udbff":1"#),
    (
      "escaped NUL in pack file", #""file":"rank-00000.data","offset":16"#,
      #""file":"rank\u0000.data","offset":16"#
    ),
    ("negative zero pack index", #""index":0"#, #""index":-0"#),
    (
      "pack codec with escapes", #""codec":"raw","file":"rank-00000.data","offset":16"#,
      #""codec":"r\u0061w","file":"rank-00000.data","offset":16"#
    ),
  ]

  @Test("fast reader agrees on hostile bodies")
  func readersAgreeOnHostileBodies() throws {
    let base = String(
      decoding: ManifestJSON.encode(PackRuleBreak.validManifest()), as: UTF8.self)
    var bodies: [(name: String, body: [UInt8])] = []
    for edit in Self.hostileBodyEdits {
      try #require(base.contains(edit.target), "\(edit.name): the base body lacks its target")
      bodies.append(
        (
          edit.name,
          Array(base.replacing(edit.target, with: edit.replacement, maxReplacements: 1).utf8)
        ))
    }
    let whitespace = base.map { character in
      "{}[],:".contains(character) ? " \t\r\n\(character)\n\r\t " : String(character)
    }.joined()
    bodies.append(("whitespace around every token", Array(whitespace.utf8)))
    for invalid: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82]] {
      var body = Array(base.utf8)
      let position = try #require(body.firstRange(of: Array(#""file":"rank"#.utf8))).upperBound
      body.insert(contentsOf: invalid, at: position)
      bodies.append(("invalid UTF-8 \(invalid) in a file name", body))
    }

    for (name, body) in bodies {
      #expect(Self.disagreement(body) == nil, "\(name)")
    }

    // Valid bodies must take the fast path, or the agreement above would hold trivially.
    let validNames: Set<String> = [
      "escaped pack location keys", "pack location keys reversed",
      "unknown nested key in pack location", "unknown key 253 levels deep in pack",
      "escaped NUL in pack file", "negative zero pack index", "pack codec with escapes",
      "whitespace around every token",
    ]
    for (name, body) in bodies where validNames.contains(name) {
      #expect(body.withUnsafeBytes(ManifestJSON.decode) != nil, "\(name)")
    }
  }

  @Test(
    "duplicate pack key rejected by both readers",
    arguments: hostileBodyEdits.filter { $0.name.contains("duplicate") }.map(\.name))
  func duplicatePackKeys(editName: String) throws {
    let edit = try #require(Self.hostileBodyEdits.first { $0.name == editName })
    let base = String(
      decoding: ManifestJSON.encode(PackRuleBreak.validManifest()), as: UTF8.self)
    let body = Array(base.replacing(edit.target, with: edit.replacement, maxReplacements: 1).utf8)

    #expect(body.withUnsafeBytes(ManifestJSON.decode) == nil)
    let error = #expect(throws: CheckpointError.self) {
      _ = try ManifestFile.decodeDiagnosing(body[...])
    }
    #expect(error?.message.contains("twice") == true, "\(edit.name): \(error?.message ?? "")")
  }

  @Test("fast reader reads padded pack location")
  func paddedPackEdits() throws {
    let base = String(
      decoding: ManifestJSON.encode(PackRuleBreak.validManifest()), as: UTF8.self)
    let padded = base.replacing(
      #""pack":{"index":0,"rawOffset":12}"#,
      with: " \"pack\" :\n\t{ \"rawOffset\" : 12 ,\r\n \"index\" : 0 } ")
    try #require(padded != base)
    let body = Array(padded.utf8)
    let fast = try #require(body.withUnsafeBytes(ManifestJSON.decode))
    #expect(fast.tensors == PackRuleBreak.validManifest().tensors)
    #expect(Self.disagreement(body) == nil)
  }
}
