import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

/// Directory of `waymark_reader.py`, the Python reader written from docs/FORMAT.md alone,
/// found from this file's path: `Tests/WaymarkSafetensorsTests/` is two levels below the
/// package root.
private let readerDirectory = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  .appendingPathComponent("python").path

/// The packages the Python reader imports.
private let readerPackages = PythonPackages(["numpy", "zstandard", "xxhash"])

/// One way of saving the sample state: a codec policy, and whether small tensors share packs.
struct ReaderSaveCase: Sendable, CustomTestStringConvertible {
  var label: String
  var codec: CodecPolicy
  var usesPacks: Bool
  /// Codecs the manifest must name at least once, so the reader is known to decode them.
  var requiredCodecs: Set<String>

  var testDescription: String { label }

  static let all: [ReaderSaveCase] = {
    let policies: [(String, CodecPolicy, Set<String>)] = [
      ("raw", .raw, ["raw"]),
      ("zstd", .zstd(), ["zstd"]),
      (
        "byte-grouped zstd", .byteGroupedZstd(),
        ["bytegroup2+zstd", "bytegroup4+zstd", "bytegroup8+zstd"]
      ),
      ("byte lanes, default", .default, ["bytelanes2", "bytelanes4", "bytelanes8"]),
      (
        "byte lanes, level 3", .byteLanes(level: 3, minimumSavings: 0),
        ["bytelanes2", "bytelanes4", "bytelanes8"]
      ),
    ]
    return policies.flatMap { label, codec, codecs in
      [
        ReaderSaveCase(
          label: label + ", packs", codec: codec, usesPacks: true, requiredCodecs: codecs),
        ReaderSaveCase(
          label: label + ", no packs", codec: codec, usesPacks: false, requiredCodecs: codecs),
      ]
    }
  }()
}

/// What the load script reports about one tensor.
private struct LoadedTensor: Decodable {
  var dtype: String
  var shape: [Int]
  /// File under the output directory that contains the tensor's bytes as the reader returned them.
  var file: String
}

/// What the load script reports about one checkpoint.
private struct LoadedCheckpoint: Decodable {
  var step: Int64
  var formatVersion: Int
  var packCount: Int
  var codecs: [String]
  var listedSteps: [Int64]
  var tensors: [String: LoadedTensor]
}

/// What the rejection script reports about a damaged checkpoint.
private struct Rejection: Decodable {
  var problems: [String]
  var errorMessage: String?
  var errorCheckpoint: String?
}

/// The numpy dtype the reader returns for each Waymark dtype; `bf16` comes back as its
/// `uint16` bit patterns.
private let numpyDTypes: [DType: String] = [
  .float64: "float64", .float32: "float32", .float16: "float16", .bfloat16: "uint16",
  .int64: "int64", .int32: "int32", .int16: "int16", .int8: "int8", .uint64: "uint64",
  .uint32: "uint32", .uint16: "uint16", .uint8: "uint8", .bool: "bool",
]

/// A step above 10^12, so the directory name is wider than the 12-digit minimum padding.
private let sampleStep: Int64 = 1_234_567_890_123

/// Metrics with the non-finite values the manifest writes as strings.
private let sampleMetrics: [String: Double] = [
  "loss": 1.75, "accuracy": 0.1, "tiny": .leastNonzeroMagnitude, "nan": .nan, "inf": .infinity,
  "negative.inf": -.infinity,
]

/// Extra state with integers at both ends of the 64-bit ranges and an escaped string.
private let sampleExtraState: JSONValue = [
  "optimizer": ["name": "adam", "beta1": 0.9, "epsilon": 1e-8, "learningRate": 0.000_3],
  "rng": .unsignedInt(UInt64.max),
  "position": .int(Int64.min),
  "flags": [true, false, nil],
  "note": "caf\u{E9} \"quoted\"\nline",
]

/// Python that checks step, metrics and extra state, then writes each tensor's bytes to a file
/// and prints a `LoadedCheckpoint` as JSON.
///
/// Arguments: the reader's directory, the checkpoint directory, an output directory.
private let loadScript = #"""
  import json
  import math
  import os
  import sys

  reader_directory, checkpoint, output_directory = sys.argv[1:4]
  sys.path.insert(0, reader_directory)
  import numpy as np
  import waymark_reader

  problems = waymark_reader.verify(checkpoint)
  assert problems == [], problems
  result = waymark_reader.load(checkpoint)

  def same(left, right):
      return (math.isnan(left) and math.isnan(right)) or left == right

  expected_metrics = {
      "loss": 1.75, "accuracy": 0.1, "tiny": 5e-324, "nan": math.nan, "inf": math.inf,
      "negative.inf": -math.inf,
  }
  metrics = result["metrics"]
  assert set(metrics) == set(expected_metrics), metrics
  for name, value in expected_metrics.items():
      assert same(metrics[name], value), (name, metrics[name], value)
      assert type(metrics[name]) is float, (name, type(metrics[name]))

  expected_extra_state = {
      "optimizer": {"name": "adam", "beta1": 0.9, "epsilon": 1e-8, "learningRate": 0.0003},
      "rng": 2**64 - 1,
      "position": -(2**63),
      "flags": [True, False, None],
      "note": "caf\u00e9 \"quoted\"\nline",
  }
  assert result["extra_state"] == expected_extra_state, result["extra_state"]

  widened = waymark_reader.load(checkpoint, bf16_as_float32=True)["tensors"]["bf16"]
  assert widened.dtype == np.float32, widened.dtype
  values = widened.tolist()
  assert values[:3] == [1.5, -2.0, math.inf], values
  assert math.isnan(values[3]), values

  os.makedirs(output_directory)
  tensors = {}
  for index, (name, array) in enumerate(sorted(result["tensors"].items())):
      file_name = f"{index}.bin"
      with open(os.path.join(output_directory, file_name), "wb") as f:
          f.write(array.tobytes())
      tensors[name] = {"dtype": str(array.dtype), "shape": list(array.shape), "file": file_name}

  # The codecs come from the manifest itself, so the test can check that every codec it
  # expects was decoded.
  with open(os.path.join(checkpoint, "manifest.json"), "rb") as f:
      manifest = json.loads(f.read())["manifest"]
  codecs = {chunk["codec"] for tensor in manifest["tensors"] for chunk in tensor["chunks"]}
  codecs.update(pack["codec"] for pack in manifest.get("packs", []))

  store = os.path.dirname(checkpoint)
  print(json.dumps({
      "step": result["step"],
      "formatVersion": result["format_version"],
      "packCount": len(manifest.get("packs", [])),
      "codecs": sorted(codecs),
      "listedSteps": [step for step, _ in waymark_reader.list_checkpoints(store)],
      "tensors": tensors,
  }))
  """#

/// Python that prints a `Rejection` for a checkpoint: the problems `verify` returns and the
/// error `load` raises.
///
/// Arguments: the reader's directory, the checkpoint directory.
private let rejectionScript = #"""
  import json
  import sys

  sys.path.insert(0, sys.argv[1])
  import waymark_reader

  checkpoint = sys.argv[2]
  report = {"problems": waymark_reader.verify(checkpoint)}
  try:
      waymark_reader.load(checkpoint)
  except waymark_reader.CheckpointError as error:
      report["errorMessage"] = str(error)
      report["errorCheckpoint"] = error.checkpoint
  print(json.dumps(report))
  """#

/// Python that runs the reader's command line on a checkpoint, as `python3 waymark_reader.py
/// CHECKPOINT` would.
///
/// Arguments: the reader's directory, the checkpoint directory.
private let commandLineScript = #"""
  import os
  import runpy
  import sys

  reader_directory, checkpoint = sys.argv[1:3]
  sys.argv = ["waymark_reader.py", checkpoint]
  runpy.run_path(os.path.join(reader_directory, "waymark_reader.py"), run_name="__main__")
  """#

@Suite(
  "Python reader of FORMAT.md",
  .enabled(if: readerPackages.shouldRunTests, readerPackages.skipMessage))
struct PythonReaderTests {
  @Test("Swift checkpoint loads bit for bit", arguments: ReaderSaveCase.all)
  func loadsSwiftCheckpoint(saveCase: ReaderSaveCase) async throws {
    try readerPackages.requireAvailable()
    try await withTemporaryDirectory { directory in
      let state = try sampleState()
      let path = try await saveCheckpoint(
        state, codec: saveCase.codec, usesPacks: saveCase.usesPacks, in: directory)

      let output = try Python.runScript(
        loadScript, in: directory, arguments: [readerDirectory, path, directory + "/decoded"])
      let loaded = try JSONDecoder().decode(LoadedCheckpoint.self, from: Data(output.utf8))

      #expect(loaded.step == sampleStep)
      #expect(loaded.listedSteps == [sampleStep])
      #expect(loaded.formatVersion == (saveCase.usesPacks ? 2 : 1))
      if saveCase.usesPacks {
        #expect(loaded.packCount > 1, "several packs of several dtypes")
      } else {
        #expect(loaded.packCount == 0)
      }
      let missingCodecs = saveCase.requiredCodecs.subtracting(loaded.codecs)
      #expect(missingCodecs.isEmpty, "codecs never written: \(missingCodecs.sorted())")
      if saveCase.codec == .raw {
        #expect(loaded.codecs == ["raw"])
      }

      #expect(Set(loaded.tensors.keys) == Set(state.tensors.keys))
      for (name, tensor) in state.tensors {
        let decoded = try #require(loaded.tensors[name], "tensor \(name) missing in Python")
        #expect(decoded.dtype == numpyDTypes[tensor.dtype], "dtype of \(name)")
        #expect(decoded.shape == tensor.shape, "shape of \(name)")
        let bytes = try readFile(at: directory + "/decoded/" + decoded.file)
        #expect(bytes.count == tensor.bytes.count, "byte count of \(name)")
        #expect(
          firstDifference(bytes, tensor.bytes) == nil,
          "bytes of \(name) differ from offset \(firstDifference(bytes, tensor.bytes) ?? -1)")
      }
    }
  }

  @Test("flipped data byte rejected")
  func flippedDataByte() async throws {
    try readerPackages.requireAvailable()
    try await withTemporaryDirectory { directory in
      let path = try await saveCheckpoint(
        try sampleState(), codec: .default, usesPacks: true, in: directory)
      let manifest = try manifestBody(of: path)
      let tensors = try #require(manifest["tensors"] as? [[String: Any]])
      let big = try #require(tensors.first { $0["name"] as? String == "big.f32" })
      let chunks = try #require(big["chunks"] as? [[String: Any]])
      let packs = try #require(manifest["packs"] as? [[String: Any]])

      let targets: [(label: String, chunk: [String: Any], names: String)] = [
        ("chunk", try #require(chunks.dropFirst().first), "tensor 'big.f32' chunk 1"),
        ("pack", try #require(packs.first), "pack 0"),
      ]
      for target in targets {
        let damaged = directory + "/damaged-" + target.label
        try FileManager.default.copyItem(atPath: path, toPath: damaged)
        let offset = try #require(target.chunk["offset"] as? Int)
        let storedByteCount = try #require(target.chunk["storedByteCount"] as? Int)
        try flipByte(at: offset + storedByteCount / 2, inFile: damaged + "/rank-00000.data")

        let rejection = try reject(damaged, in: directory)
        #expect(rejection.problems.count == 1, "\(target.label): \(rejection.problems)")
        let problem = try #require(rejection.problems.first)
        #expect(problem.contains(target.names), "\(target.label): \(problem)")
        #expect(problem.contains("checksum mismatch"), "\(target.label): \(problem)")
        #expect(rejection.errorCheckpoint == damaged)
        #expect(rejection.errorMessage != nil, "load accepted the damaged \(target.label)")
        let message = rejection.errorMessage ?? ""
        #expect(message.contains(damaged), "\(message)")
        #expect(message.contains(target.names), "\(message)")
      }
    }
  }

  @Test("flipped manifest byte rejected")
  func flippedManifestByte() async throws {
    try readerPackages.requireAvailable()
    try await withTemporaryDirectory { directory in
      let path = try await saveCheckpoint(
        try sampleState(), codec: .default, usesPacks: true, in: directory)
      // Byte 60 lies in the manifest body, which starts at byte 50.
      try flipByte(at: 60, inFile: path + "/manifest.json")

      let rejection = try reject(path, in: directory)
      #expect(rejection.problems.count == 1, "\(rejection.problems)")
      let problem = try #require(rejection.problems.first)
      #expect(problem.contains("manifest.json checksum mismatch"), "\(problem)")
      #expect(rejection.errorMessage != nil, "load accepted the damaged manifest")
    }
  }

  @Test("command line prints every tensor")
  func commandLine() async throws {
    try readerPackages.requireAvailable()
    try await withTemporaryDirectory { directory in
      let state = try sampleState()
      let path = try await saveCheckpoint(state, codec: .default, usesPacks: true, in: directory)

      let output = try Python.runScript(
        commandLineScript, in: directory, arguments: [readerDirectory, path])
      let lines = output.split(separator: "\n").map(String.init)

      #expect(lines.count == state.tensors.count + 1, "one header line and one per tensor")
      #expect(
        lines.first?.contains("step \(sampleStep), format version 2") == true,
        "\(lines.first ?? "")")
      let names = Set(
        lines.dropFirst().compactMap { $0.split(separator: "\t").first.map(String.init) })
      #expect(names == Set(state.tensors.keys))
      let scalar = lines.first { $0.hasPrefix("scalar.f64\t") }
      #expect(
        scalar?.contains("\tf64\t[]\t8 bytes\t") == true, "\(scalar ?? "no line for scalar.f64")")
    }
  }
}

/// Saves `state` at `sampleStep` into a new store under `directory` and returns the
/// checkpoint's path.
///
/// Chunks are at most 100,003 bytes, so the large tensors span several chunks, and a chunk of
/// 4-byte elements contains more than 16,384 of them, the size above which the byte-lane
/// writer puts raw sections before zstd sections.
private func saveCheckpoint(
  _ state: TrainingState, codec: CodecPolicy, usesPacks: Bool, in directory: String
) async throws -> String {
  var options = CheckpointManager.Options()
  options.chunkByteCount = 100_003
  options.codec = codec
  if !usesPacks {
    options.maxPackedTensorByteCount = 0
  }
  let manager = try await CheckpointManager(directory: directory + "/checkpoints", options: options)
  let ticket = try await manager.save(step: sampleStep, state: state, metrics: sampleMetrics)
  let committed = try await manager.waitForCommit(of: ticket)
  try await manager.close()
  return committed.path
}

/// Runs `rejectionScript` on `checkpoint` and decodes its report.
private func reject(_ checkpoint: String, in directory: String) throws -> Rejection {
  let output = try Python.runScript(
    rejectionScript, in: directory, arguments: [readerDirectory, checkpoint])
  return try JSONDecoder().decode(Rejection.self, from: Data(output.utf8))
}

/// Returns the `manifest` object of a checkpoint's manifest.json, parsed without Waymark.
private func manifestBody(of checkpoint: String) throws -> [String: Any] {
  let data = try Data(contentsOf: URL(fileURLWithPath: checkpoint + "/manifest.json"))
  let file = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  return try #require(file["manifest"] as? [String: Any])
}

/// Inverts every bit of the byte at `offset` in the file at `path`.
private func flipByte(at offset: Int, inFile path: String) throws {
  var bytes = try readFile(at: path)
  try #require(offset < bytes.count, "offset \(offset) is past the end of \(path)")
  bytes[offset] ^= 0xFF
  try writeFile(bytes, to: path)
}

/// Returns the first offset where `left` and `right` differ, or nil when they are equal.
private func firstDifference(_ left: [UInt8], _ right: [UInt8]) -> Int? {
  for index in 0..<min(left.count, right.count) where left[index] != right[index] {
    return index
  }
  return left.count == right.count ? nil : min(left.count, right.count)
}

/// Returns the little-endian bytes of `values`.
private func littleEndianBytes<Value: FixedWidthInteger>(_ values: [Value]) -> [UInt8] {
  values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// A SplitMix64 generator, so the sample state is the same in every run.
private struct SplitMix64 {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var mixed = state
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return mixed ^ (mixed >> 31)
  }
}

/// Returns tensors of all 13 dtypes with edge values, empty and 0-d tensors, non-ASCII names,
/// large tensors that span several chunks, and hundreds of small tensors that share packs.
private func sampleState() throws -> TrainingState {
  var tensors: [String: Tensor] = [:]
  func add(_ name: String, _ dtype: DType, _ shape: [Int], _ bytes: [UInt8]) throws {
    tensors[name] = try Tensor(bytes: bytes, dtype: dtype, shape: shape)
  }

  // One small tensor of each dtype, with edge values.
  try add(
    "f64", .float64, [2, 3],
    littleEndianBytes(
      [0.5, -.infinity, .greatestFiniteMagnitude, -0.0, .nan, .leastNonzeroMagnitude].map {
        (value: Double) in value.bitPattern
      }))
  try add("f32", .float32, [2, 3], littleEndianBytes((0..<6).map { (Float($0) / 3).bitPattern }))
  // 1, -2, infinity, 65504, the smallest subnormal and a NaN, as float16 bit patterns.
  try add(
    "f16", .float16, [6],
    littleEndianBytes([UInt16](arrayLiteral: 0x3C00, 0xC000, 0x7C00, 0x7BFF, 0x0001, 0x7E00)))
  // 1.5, -2, infinity and a NaN with a payload, as bfloat16 bit patterns.
  try add(
    "bf16", .bfloat16, [4],
    littleEndianBytes([UInt16](arrayLiteral: 0x3FC0, 0xC000, 0x7F80, 0x7FC1)))
  try add("i64", .int64, [4], littleEndianBytes([Int64.min, -1, 0, Int64.max]))
  try add("i32", .int32, [3], littleEndianBytes([Int32.min, 7, Int32.max]))
  try add("i16", .int16, [3, 1], littleEndianBytes([Int16.min, 0, Int16.max]))
  try add("i8", .int8, [3], littleEndianBytes([Int8.min, -1, Int8.max]))
  try add("u64", .uint64, [3], littleEndianBytes([UInt64.max, 0, 1]))
  try add("u32", .uint32, [2], littleEndianBytes([UInt32.max, 5]))
  try add("u16", .uint16, [2], littleEndianBytes([UInt16.max, 9]))
  try add("u8", .uint8, [16, 16], (0...255).map { UInt8($0) })
  try add("bool", .bool, [2, 2], [1, 0, 1, 1])

  try add("empty.f32", .float32, [0, 3], [])
  try add("empty.u8", .uint8, [4, 0, 2], [])
  try add("scalar.f64", .float64, [], littleEndianBytes([(3.25 as Double).bitPattern]))
  try add("scalar.bool", .bool, [], [1])
  try add("couche.poids_\u{E9}", .float32, [2], littleEndianBytes([Float(1), 2].map(\.bitPattern)))
  try add("\u{5C64}/\u{91CD}\u{307F}", .int32, [1], littleEndianBytes([Int32(3)]))
  // A decomposed name that sorts before "caff" by code point but after it in NFC, the form
  // Swift's String order compares.
  try add("cafe\u{301}", .uint8, [1], [4])
  try add("caff", .uint8, [1], [5])

  // Large tensors of several chunks: smooth floats whose exponent lanes compress, counters,
  // random bytes that do not compress, and element counts that leave partial chunks.
  var random = SplitMix64(state: 42)
  try add(
    "big.f32", .float32, [250, 401],
    littleEndianBytes((0..<100_250).map { Float(sin(Double($0) / 100)).bitPattern }))
  try add(
    "big.f64", .float64, [30_001],
    littleEndianBytes((0..<30_001).map { (Double($0) * 0.001).bitPattern }))
  try add(
    "big.bf16", .bfloat16, [60_001],
    littleEndianBytes(
      (0..<60_001).map { UInt16(truncatingIfNeeded: Float(cos(Double($0) / 50)).bitPattern >> 16) })
  )
  try add(
    "big.f16", .float16, [70_003],
    littleEndianBytes((0..<70_003).map { (index: Int) -> UInt16 in 0x3C00 | UInt16(index % 1024) }))
  try add(
    "big.i64", .int64, [40_000], littleEndianBytes((0..<40_000).map { Int64($0) * 3 - 60_000 }))
  // A constant low byte and a random high byte: the byte-lane writer stores lane 1 raw and
  // lane 0 as zstd, and puts raw sections first in large chunks, so the header is not in
  // lane order.
  try add(
    "big.u16.random.high", .uint16, [80_000],
    littleEndianBytes((0..<80_000).map { _ in UInt16(truncatingIfNeeded: random.next()) << 8 }))
  try add(
    "big.u8.random", .uint8, [150_000],
    (0..<150_000).map { _ in UInt8(truncatingIfNeeded: random.next()) })
  try add("big.bool", .bool, [70_000], (0..<70_000).map { UInt8(($0 / 7) % 2) })

  // Hundreds of small tensors of three dtypes, so packing fills several packs.
  for layer in 0..<600 {
    let name = "layers." + String(repeating: "0", count: 3 - String(layer).count) + String(layer)
    try add(
      name + ".bias", .float32, [64],
      littleEndianBytes((0..<64).map { Float(sin(Double(layer * 64 + $0) / 37)).bitPattern }))
    if layer < 60 {
      try add(name + ".step", .int32, [], littleEndianBytes([Int32(layer * 1000)]))
      try add(
        name + ".norm", .float16, [3, 5],
        littleEndianBytes(
          (0..<15).map { (index: Int) -> UInt16 in 0x3800 | UInt16((layer * 15 + index) % 2048) }))
    }
  }
  return TrainingState(tensors: tensors, extraState: sampleExtraState)
}
