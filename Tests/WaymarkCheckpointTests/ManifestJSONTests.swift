import Foundation
import Testing
import WaymarkCore

@testable import WaymarkCheckpoint

@Suite("Manifest JSON without Foundation")
struct ManifestJSONTests {
  private func sampleManifest(extraState: JSONValue) -> Manifest {
    let chunks = [
      ChunkEntry(
        file: "data-00000.bin", offset: 0, storedByteCount: 5000, rawOffset: 0, rawByteCount: 4096,
        codec: .byteLanes4, checksum: "0123456789abcdef"),
      ChunkEntry(
        file: "data-00000.bin", offset: 5000, storedByteCount: 4, rawOffset: 4096,
        rawByteCount: 4, codec: .raw, checksum: "fedcba9876543210"),
    ]
    return Manifest(
      step: 9_000_000_000, wallTime: 1_733_342_695.123456,
      metrics: ["train/loss": 0.25, "val/\"quoted\"": .nan, "big": .infinity, "small": -.infinity],
      extraState: extraState,
      writers: [WriterEntry(rank: 0, worldSize: 1, host: "host-é", files: ["data-00000.bin"])],
      tensors: [
        TensorEntry(
          name: "layers.0.weight", dtype: .float32, shape: [1025], byteCount: 4100, chunks: chunks),
        TensorEntry(
          name: "packed.bias", dtype: .float32, shape: [3], byteCount: 12, chunks: [],
          pack: PackedLocation(index: 0, rawOffset: 0)),
        TensorEntry(name: "scalar.é", dtype: .bfloat16, shape: [0, 3], byteCount: 0, chunks: []),
      ],
      packs: [
        ChunkEntry(
          file: "data-00000.bin", offset: 5004, storedByteCount: 12, rawOffset: 0,
          rawByteCount: 12, codec: .raw, checksum: "00112233445566ff")
      ])
  }

  private let extraState: JSONValue = [
    "optimizer": ["lr": 0.001, "betas": [0.9, 0.999], "step": 12],
    "rng": .unsignedInt(18_446_744_073_709_551_615), "name": "tab\there \\ \u{1}", "flag": true,
    "nothing": nil, "negative": -7, "tiny": 1e-300,
  ]

  @Test("Foundation decodes written manifests")
  func writerMatchesFoundation() throws {
    let manifest = sampleManifest(extraState: extraState)
    let body = ManifestJSON.encode(manifest)
    let decoded = try JSONCoding.decoder().decode(Manifest.self, from: Data(body))
    #expect(decoded.tensors == manifest.tensors)
    #expect(decoded.packs == manifest.packs)
    #expect(decoded.writers == manifest.writers)
    #expect(decoded.step == manifest.step)
    #expect(decoded.wallTime == manifest.wallTime)
    #expect(decoded.metrics["train/loss"] == 0.25)
    #expect(decoded.metrics["val/\"quoted\""]!.isNaN)
    #expect(decoded.metrics["big"] == .infinity)
    #expect(decoded.metrics["small"] == -.infinity)
  }

  @Test("reader decodes Foundation output")
  func readerMatchesFoundation() throws {
    let manifest = sampleManifest(extraState: extraState)
    let body = Array(try JSONCoding.encoder().encode(manifest))
    let decoded = try #require(body.withUnsafeBytes(ManifestJSON.decode))
    #expect(decoded.tensors == manifest.tensors)
    #expect(decoded.packs == manifest.packs)
    #expect(decoded.writers == manifest.writers)
    #expect(decoded.extraState["optimizer"]?["lr"] == 0.001)
    #expect(decoded.extraState["rng"] == .unsignedInt(18_446_744_073_709_551_615))
    #expect(decoded.extraState["name"] == "tab\there \\ \u{1}")
  }

  @Test("round trip reads numbers as Foundation does")
  func roundTrip() throws {
    let manifest = sampleManifest(extraState: [
      "whole": 2.0, "count": 2, "ratio": 0.1, "negativeZero": -0.0, "huge": 1e19,
    ])
    let decoded = try ManifestFile.decode(try ManifestFile.encode(manifest))
    let foundation = try JSONCoding.decoder().decode(
      Manifest.self, from: Data(ManifestJSON.encode(manifest)))
    #expect(decoded.tensors == manifest.tensors)
    #expect(decoded.extraState == foundation.extraState)
    #expect(decoded.extraState["whole"] == .int(2))
    #expect(decoded.extraState["ratio"] == .double(0.1))
    #expect(decoded.extraState["huge"] == foundation.extraState["huge"])
  }

  @Test(
    "reader declines unexpected text",
    arguments: [
      #"{"formatVersion":1}"#,
      #"{"extraState":{},"formatVersion":1,"metrics":{},"step":1.0,"tensors":[],"wallTime":0,"writers":[]}"#,
      #"{"extraState":{},"formatVersion":1,"metrics":{},"step":1,"step":2,"tensors":[],"wallTime":0,"writers":[]}"#,
      #"{"extraState":{},"formatVersion":1,"metrics":{"a":"x"},"step":1,"tensors":[],"wallTime":0,"writers":[]}"#,
      #"{"extraState":{},"formatVersion":1,"metrics":{},"step":1,"tensors":[{"name":"a"}],"wallTime":0,"writers":[]}"#,
      #"{"extraState":{},"formatVersion":1,"metrics":{},"step":1,"tensors":[],"wallTime":1e999,"writers":[]}"#,
      #"{"extraState":{},"formatVersion":1,"metrics":{},"step":18446744073709551615,"tensors":[],"wallTime":0,"writers":[]}"#,
    ])
  func declines(_ text: String) {
    #expect(Array(text.utf8).withUnsafeBytes(ManifestJSON.decode) == nil)
  }

  @Test("fast reader accepts no more than Foundation")
  func differentialMutations() throws {
    let manifest = sampleManifest(extraState: extraState)
    let bases = [ManifestJSON.encode(manifest), Array(try JSONCoding.encoder().encode(manifest))]
    let tokens = [
      "1.0", "-", "e5", "\"", ",", "}", "]", "{", "[", "null", "true", "0", "-0", "1e999",
      "18446744073709551616", "\\u0000", "\\ud800", "\"step\":1,", " ", "1e-400", "-0.0",
      "2e-324", "9223372036854775808.0", "1e2", #""pack":{"index":0,"rawOffset":0},"#,
      #""packs":null,"#, #""pack":null,"#,
    ].map { Array($0.utf8) }
    var generator = SplitMix64(state: 7)
    var accepted = 0
    for iteration in 0..<4_000 {
      var body = bases[iteration % 2]
      for _ in 0..<(1 + Int(generator.next() % 3)) {
        let position = Int(generator.next() % UInt64(body.count))
        switch generator.next() % 3 {
        case 0: body[position] = UInt8(truncatingIfNeeded: generator.next())
        case 1:
          body.insert(
            contentsOf: tokens[Int(generator.next() % UInt64(tokens.count))], at: position)
        default:
          body.removeSubrange(position..<min(body.count, position + Int(generator.next() % 8) + 1))
        }
      }
      guard let fast = body.withUnsafeBytes(ManifestJSON.decode) else { continue }
      accepted += 1
      let slow = try #require(
        try? ManifestFile.decodeDiagnosing(body[...]),
        "the fast reader accepted a body Foundation rejects: \(String(decoding: body, as: UTF8.self))"
      )
      #expect(fast.tensors == slow.tensors)
      #expect(fast.packs == slow.packs)
      #expect(fast.writers == slow.writers)
      #expect(fast.step == slow.step)
      #expect(fast.formatVersion == slow.formatVersion)
      #expect(fast.wallTime == slow.wallTime)
      #expect(fast.metrics.keys.sorted() == slow.metrics.keys.sorted())
      #expect(fast.extraState == slow.extraState)
    }
    #expect(accepted > 100)
  }

  @Test(
    "reader takes any key order, escaped and unknown keys, and whitespace",
    arguments: [
      (#""step":"#, #""st\u0065p":"#),
      (#"{"extraState""#, #"{"zzz":{"a":[1,{"b":null}]},"extraState""#),
      (#"{"byteCount""#, #" { "unknown" : [ ] , "byteCount" "#),
      (#""rawOffset":0,"storedByteCount":12}"#, #""storedByteCount":12,"rawOffset":0}"#),
      (
        #""name":"packed.bias","pack":{"index":0,"rawOffset":0}"#,
        #""pack":{"rawOffset":0,"index":0},"name":"packed.bias""#
      ),
    ])
  func readerMatchesFoundationOnEditedText(target: String, replacement: String) throws {
    let text = String(
      decoding: ManifestJSON.encode(sampleManifest(extraState: extraState)), as: UTF8.self)
    try #require(text.contains(target))
    let body = Array(text.replacing(target, with: replacement, maxReplacements: 1).utf8)
    let fast = try #require(body.withUnsafeBytes(ManifestJSON.decode))
    let slow = try ManifestFile.decodeDiagnosing(body[...])
    #expect(fast.tensors == slow.tensors)
    #expect(fast.packs == slow.packs)
    #expect(fast.step == slow.step)
    #expect(fast.extraState == slow.extraState)
  }

  @Test("reader rejects a key repeated under an escaped spelling")
  func escapedDuplicateKey() throws {
    let text = String(decoding: ManifestJSON.encode(sampleManifest(extraState: [:])), as: UTF8.self)
    let body = Array(text.replacing(#"{"extraState""#, with: #"{"st\u0065p":5,"extraState""#).utf8)
    #expect(body.withUnsafeBytes(ManifestJSON.decode) == nil)
    #expect(throws: CheckpointError.self) { _ = try ManifestFile.decodeDiagnosing(body[...]) }
  }

  @Test("reader decodes pretty-printed Foundation output")
  func prettyPrinted() throws {
    let manifest = sampleManifest(extraState: extraState)
    let body = Array(try JSONCoding.encoder(pretty: true).encode(manifest))
    let decoded = try #require(body.withUnsafeBytes(ManifestJSON.decode))
    #expect(decoded.tensors == manifest.tensors)
    #expect(decoded.packs == manifest.packs)
    #expect(decoded.writers == manifest.writers)
  }

  private func framed(_ body: [UInt8]) -> [UInt8] {
    let checksum = XXH3.hexString(body.withUnsafeBytes(XXH3.hash))
    return Array(#"{"checksum":"xxh3-64:"#.utf8) + Array(checksum.utf8)
      + Array(#"","manifest":"#.utf8) + body + Array("}\n".utf8)
  }

  @Test("a trailing comma is rejected")
  func trailingComma() throws {
    var body = ManifestJSON.encode(sampleManifest(extraState: [:]))
    body.insert(UInt8(ascii: ","), at: body.count - 1)
    let error = #expect(throws: CheckpointError.self) {
      _ = try ManifestFile.decode(framed(body))
    }
    #expect(error?.code == .invalidManifest)
    #expect(error?.message.hasPrefix("manifest JSON is invalid: the body is not JSON") == true)
  }

  @Test(
    "numbers near 2^53 read as Foundation reads them",
    arguments: [
      "9007199254740993.0", "9007199254740991.9", "9007199254740991.5", "-9007199254740993.0",
      "9007199254740992.0", "4503599627370495.9", "4503599627370495.7", "1.00000000000000000001e2",
    ])
  func boundaryNumbers(literal: String) throws {
    let text = String(
      decoding: ManifestJSON.encode(sampleManifest(extraState: ["x": 1])), as: UTF8.self)
    let body = Array(text.replacing(#"{"x":1}"#, with: #"{"x":"# + literal + "}").utf8)
    let slow = try ManifestFile.decodeDiagnosing(body[...])
    guard let fast = body.withUnsafeBytes(ManifestJSON.decode) else { return }
    #expect(fast.extraState == slow.extraState)
  }

  @Test(
    "integer field written with a fraction is rejected",
    arguments: [
      (#""step":9000000000"#, "step"), (#""offset":5004,"#, "packs[0].offset"),
      (#""offset":5000,"#, "tensors[0].chunks[1].offset"), (#""index":0"#, "pack.index"),
    ])
  func fractionalInteger(target: String, field: String) throws {
    let text = String(decoding: ManifestJSON.encode(sampleManifest(extraState: [:])), as: UTF8.self)
    let edited =
      target.hasSuffix(",")
      ? target.replacing(",", with: ".0,") : target + ".0"
    let body = Array(text.replacing(target, with: edited, maxReplacements: 1).utf8)
    let error = #expect(throws: CheckpointError.self) {
      _ = try ManifestFile.decode(framed(body))
    }
    #expect(error?.message.contains("\(field) is written as") == true, "\(error?.message ?? "")")
  }

  @Test("validation errors name the tensor")
  func validationNamesTensor() throws {
    var manifest = sampleManifest(extraState: [:])
    manifest.tensors[0].chunks[0].offset = -1
    let error = #expect(throws: CheckpointError.self) {
      _ = try ManifestFile.decode(try ManifestFile.encode(manifest))
    }
    #expect(error?.message.contains("tensor 'layers.0.weight'") == true)
  }
}
