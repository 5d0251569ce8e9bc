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
        TensorEntry(name: "scalar.é", dtype: .bfloat16, shape: [0, 3], byteCount: 0, chunks: []),
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
    #expect(decoded.writers == manifest.writers)
    #expect(decoded.extraState["optimizer"]?["lr"] == 0.001)
    #expect(decoded.extraState["rng"] == .unsignedInt(18_446_744_073_709_551_615))
    #expect(decoded.extraState["name"] == "tab\there \\ \u{1}")
  }

  @Test("round trip keeps number kinds")
  func roundTrip() throws {
    let manifest = sampleManifest(extraState: ["whole": 2.0, "count": 2, "ratio": 0.1])
    let decoded = try ManifestFile.decode(try ManifestFile.encode(manifest))
    #expect(decoded.tensors == manifest.tensors)
    #expect(decoded.extraState == manifest.extraState)
    if case .double(2.0)? = decoded.extraState["whole"] {
    } else {
      Issue.record("2.0 came back as \(String(describing: decoded.extraState["whole"]))")
    }
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
}
