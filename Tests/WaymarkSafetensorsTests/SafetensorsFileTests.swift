import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

@testable import WaymarkSafetensors

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Returns one tensor of every dtype, plus a scalar, an empty tensor, non-ASCII names and
/// edge values, for round trips.
func sampleTensors() throws -> [String: Tensor] {
  var tensors: [String: Tensor] = [
    "f64": try Tensor([0.5, -.infinity, .greatestFiniteMagnitude, -0.0], shape: [2, 2]),
    "f32": try Tensor([Float](arrayLiteral: 1, 2, 3, 4, 5, 6), shape: [2, 3]),
    "i64": try Tensor([Int64.min, -1, 0, Int64.max], shape: [4]),
    "i32": try Tensor([Int32.min, Int32.max, 7], shape: [3]),
    "i16": try Tensor([Int16.min, 0, Int16.max], shape: [3, 1]),
    "i8": try Tensor([Int8.min, -1, Int8.max], shape: [1, 3]),
    "u64": try Tensor([UInt64.max, 0, 1], shape: [3]),
    "u32": try Tensor([UInt32.max, 5], shape: [2]),
    "u16": try Tensor([UInt16.max, 9], shape: [2]),
    "u8": try Tensor([UInt8](0...255), shape: [16, 16]),
    "bool": try Tensor([true, false, true], shape: [3]),
    "bf16": try Tensor(
      [BFloat16(1.5), BFloat16(-2), BFloat16(Float.infinity), BFloat16(bitPattern: 0x7FC1)],
      shape: [4]),
    "scalar": Tensor(scalar: Float(3.25)),
    "empty": try Tensor([Float](), shape: [0, 3]),
    "couche.poids_é": try Tensor([Float](arrayLiteral: 1, 2), shape: [2]),
    "層/重み": try Tensor([Int32](arrayLiteral: 3), shape: [1]),
  ]
  tensors["f16"] = try Tensor(
    bytes: [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C], dtype: .float16, shape: [3])
  return tensors
}

@Suite("SafetensorsFile")
struct SafetensorsFileTests {
  @Test("encoding matches reference layout")
  func encodingMatchesReferenceLayout() throws {
    let file = SafetensorsFile(tensors: [
      "attn.0": try Tensor([Float](arrayLiteral: 0, 1, 2, 3, 4, 5), shape: [1, 2, 3])
    ])
    let header = #"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#
    #expect(header.utf8.count == 64)
    let data = try Tensor([Float](arrayLiteral: 0, 1, 2, 3, 4, 5), shape: [6]).bytes
    #expect(try file.encoded() == SafetensorsBytes.file(header: header, data: data))
  }

  @Test("header padded to 8 bytes")
  func headerPadding() throws {
    let file = SafetensorsFile(tensors: ["a": try Tensor([UInt8](arrayLiteral: 1), shape: [1])])
    let bytes = try file.encoded()
    let unpadded = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
    let padding = (8 - unpadded.utf8.count % 8) % 8
    #expect(padding > 0)
    #expect(
      bytes
        == SafetensorsBytes.file(
          header: unpadded + String(repeating: " ", count: padding), data: [1]))
  }

  @Test("tensors ordered by dtype then name")
  func tensorOrder() throws {
    let names = [
      "u64", "i64", "f64", "Z", "a", "é", "u32", "i32", "bf16", "f16", "u16", "i16", "i8", "u8",
      "bool",
    ]
    var tensors: [String: Tensor] = [:]
    for (name, dtype) in [
      ("u64", DType.uint64), ("i64", .int64), ("f64", .float64), ("Z", .float32), ("a", .float32),
      ("é", .float32), ("u32", .uint32), ("i32", .int32), ("bf16", .bfloat16), ("f16", .float16),
      ("u16", .uint16), ("i16", .int16), ("i8", .int8), ("u8", .uint8), ("bool", .bool),
    ] {
      tensors[name] = try Tensor(
        bytes: [UInt8](repeating: 0, count: 3 * dtype.byteWidth), dtype: dtype, shape: [3])
    }
    let bytes = try SafetensorsFile(tensors: tensors).encoded()
    let header = try SafetensorsHeader(parsingFile: bytes)

    #expect(header.tensors.map(\.name) == names)
    for info in header.tensors {
      let fileOffset = header.dataSectionOffset + info.dataOffsets.lowerBound
      #expect(fileOffset % info.dtype.byteWidth == 0, "\(info.name) is not aligned")
    }
  }

  @Test("every dtype round-trips in memory")
  func roundTripInMemory() throws {
    let original = SafetensorsFile(
      tensors: try sampleTensors(),
      metadata: ["format": "pt", "quote\"and\\slash": "line\nbreak\u{1}é", "": "empty key"])
    let decoded = try SafetensorsFile(decoding: try original.encoded())
    #expect(decoded == original)
  }

  @Test("written file reads back")
  func writeAndRead() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/model.safetensors"
      let original = SafetensorsFile(tensors: try sampleTensors(), metadata: ["step": "12"])
      try original.write(to: path)

      #expect(try SafetensorsFile(contentsOfFile: path) == original)
      #expect(
        try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
      #expect(try readFile(at: path) == original.encoded())
    }
  }

  @Test(
    "path splits into directory and file name",
    arguments: [
      ("model.safetensors", ".", "model.safetensors"),
      ("/model.safetensors", "/", "model.safetensors"),
      ("a/b/model.safetensors", "a/b", "model.safetensors"), ("/a/.m", "/a", ".m"),
    ])
  func pathSplit(path: String, directory: String, fileName: String) throws {
    let split = try SafetensorsFile.split(path)
    #expect(split.directory == directory)
    #expect(split.fileName == fileName)
  }

  @Test("existing file kept unless replacing")
  func existingFile() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/model.safetensors"
      let first = SafetensorsFile(tensors: ["x": Tensor(scalar: Float(1))])
      let second = SafetensorsFile(tensors: ["x": Tensor(scalar: Float(2))])
      try first.write(to: path)

      let error = try #require(throws: CheckpointError.self) { try second.write(to: path) }
      #expect(error.code == .alreadyExists)
      #expect(error.message.contains(path))
      #expect(try SafetensorsFile(contentsOfFile: path) == first)

      try second.write(to: path, replacingExisting: true)
      #expect(try SafetensorsFile(contentsOfFile: path) == second)
      #expect(
        try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
    }
  }

  @Test("failed write leaves no file")
  func failedWriteAtEveryCall() throws {
    try withTemporaryDirectory { directory in
      let file = SafetensorsFile(tensors: try sampleTensors())
      let probe = FaultInjectingFileSystem()
      try file.write(to: directory + "/probe.safetensors", fileSystem: probe)
      let callCount = probe.operationCount
      #expect(callCount >= 4)

      for number in 1...callCount {
        let path = directory + "/model-\(number).safetensors"
        let fileSystem = FaultInjectingFileSystem()
        fileSystem.arm(.init(operationNumber: number, errno: EIO))
        let error = try #require(throws: CheckpointError.self) {
          try file.write(to: path, fileSystem: fileSystem)
        }
        #expect(error.code == .io)
        let failed = try #require(fileSystem.injectedFailures.first)
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!entries.contains { $0.contains(".tmp-") }, "temporary file left after \(failed)")
        if failed.operation == .synchronizeDirectory {
          // The rename already happened, so the complete file is in place.
          #expect(try SafetensorsFile(contentsOfFile: path) == file)
        } else {
          #expect(!FileManager.default.fileExists(atPath: path), "file exists after \(failed)")
        }
      }
    }
  }

  @Test(
    "invalid names rejected on write",
    arguments: ["__metadata__", "", "../up", "a/./b", "/root", "nul\u{0}"])
  func invalidNamesOnWrite(name: String) throws {
    let file = SafetensorsFile(tensors: [name: Tensor(scalar: UInt8(1))])
    let error = try #require(throws: CheckpointError.self) { try file.encoded() }
    #expect(error.code == .invalidTensor)
    #expect(error.message.contains("rename the tensor"))
  }

  @Test("BOOL byte other than 0 or 1 rejected before write")
  func invalidBoolBeforeWrite() throws {
    // A bool tensor with such a byte cannot be built, so no file can be written from one.
    let error = try #require(throws: CheckpointError.self) {
      try Tensor(bytes: [0, 1, 7], dtype: .bool, shape: [3])
    }
    #expect(error.code == .invalidTensor)
    #expect(error.message.contains("byte 7"))
  }

  @Test("path without file name rejected", arguments: ["", "dir/"])
  func invalidPath(path: String) throws {
    let file = SafetensorsFile(tensors: ["x": Tensor(scalar: UInt8(1))])
    let error = try #require(throws: CheckpointError.self) { try file.write(to: path) }
    #expect(error.code == .invalidArgument)
  }

  @Test("missing file is reported as not found")
  func missingFile() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/absent.safetensors"
      let error = try #require(throws: CheckpointError.self) {
        try SafetensorsFile(contentsOfFile: path)
      }
      #expect(error.code == .notFound)
      #expect(error.message.contains(path))
    }
  }

  @Test("directory is rejected as a safetensors file")
  func directoryPath() throws {
    try withTemporaryDirectory { directory in
      let error = try #require(throws: CheckpointError.self) {
        try SafetensorsFile(contentsOfFile: directory)
      }
      #expect(error.code == .invalidArgument)
      #expect(error.message.contains("is a directory"))
    }
  }

  @Test("summary lists tensors and metadata")
  func summary() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/model.safetensors"
      let file = SafetensorsFile(
        tensors: [
          "b": try Tensor([Float](arrayLiteral: 1, 2, 3, 4), shape: [2, 2]),
          "a": try Tensor([Int64](arrayLiteral: 1), shape: [1]),
        ], metadata: ["format": "pt"])
      try file.write(to: path)

      let summary = try SafetensorsSummary(inspectingFileAt: path)
      #expect(summary.path == path)
      #expect(summary.fileByteCount == (try readFile(at: path).count))
      #expect(summary.headerByteCount % 8 == 0)
      #expect(summary.dataByteCount == 24)
      #expect(summary.metadata == ["format": "pt"])
      #expect(summary.tensors.map(\.name) == ["a", "b"])
      #expect(summary.tensors[1].dtype == .float32)
      #expect(summary.tensors[1].safetensorsDType == "F32")
      #expect(summary.tensors[1].shape == [2, 2])
      #expect(summary.tensors[1].byteCount == 16)
      #expect(summary.tensors[0].fileOffset == 8 + summary.headerByteCount)
      #expect(summary.tensors[1].fileOffset == 8 + summary.headerByteCount + 8)

      let json =
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any]
      let tensors = try #require(json?["tensors"] as? [[String: Any]])
      #expect(tensors.first?["dtype"] as? String == "i64")
      #expect(tensors.first?["safetensorsDType"] as? String == "I64")
    }
  }

  @Test("truncated file summary names field")
  func summaryOfTruncatedFile() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/cut.safetensors"
      let bytes = try SafetensorsFile(tensors: [
        "w": try Tensor([Float](repeating: 1, count: 8), shape: [8])
      ]).encoded()
      try writeFile(Array(bytes.dropLast(4)), to: path)

      let error = try #require(throws: CheckpointError.self) {
        try SafetensorsSummary(inspectingFileAt: path)
      }
      #expect(error.code == .invalidSafetensors)
      #expect(error.message.contains(#"tensors["w"].data_offsets"#))
      #expect(error.message.contains("copy it again"))
    }
  }
}
