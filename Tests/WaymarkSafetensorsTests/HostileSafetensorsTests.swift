import Foundation
import Testing
import WaymarkCheckpoint
import WaymarkCore

@testable import WaymarkSafetensors

/// A malformed or malicious safetensors file and the error reading it must raise.
struct HostileSafetensorsCase: Sendable, CustomTestStringConvertible {
  /// What the file gets wrong.
  var label: String
  /// The file's bytes.
  var bytes: [UInt8]
  /// The field the message must name.
  var field: String
  /// The expected error code.
  var code: CheckpointError.Code = .invalidSafetensors
  /// Whether the problem is in the header, so that inspecting the file finds it too.
  var isInHeader = true

  var testDescription: String { label }

  /// Creates a case whose file is `header` followed by `data`, with the header's true length.
  init(_ label: String, header: String, data: [UInt8] = [], field: String, isInHeader: Bool = true)
  {
    self.label = label
    self.bytes = SafetensorsBytes.file(header: header, data: data)
    self.field = field
    self.isInHeader = isInHeader
  }

  /// Creates a case whose file is exactly `bytes`.
  init(_ label: String, bytes: [UInt8], field: String) {
    self.label = label
    self.bytes = bytes
    self.field = field
  }
}

/// Returns a tensor entry `"name":{...}` for building headers in the table.
private func entry(
  _ name: String, _ dtype: String = "F32", shape: String = "[1]", offsets: String = "[0,4]"
)
  -> String
{
  #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
}

private let fourBytes: [UInt8] = [0, 0, 128, 63]

private let hostileCases: [HostileSafetensorsCase] = [
  // The 8-byte length prefix.
  .init("file shorter than the length prefix", bytes: [1, 0, 0], field: "header length"),
  .init("empty file", bytes: [], field: "header length"),
  .init(
    "header length larger than the file",
    bytes: SafetensorsBytes.file(header: "{}", declaredLength: 1000), field: "header length"),
  .init(
    "header length over the 100 MB bound",
    bytes: SafetensorsBytes.file(header: "{}", declaredLength: 100_000_001), field: "header length"),
  .init(
    "header length of 2^64 - 1",
    bytes: SafetensorsBytes.file(header: "{}", declaredLength: .max), field: "header length"),
  .init(
    "header length of 2^63, negative as a signed integer",
    bytes: SafetensorsBytes.file(header: "{}", declaredLength: 1 << 63), field: "header length"),
  .init(
    "header length zero",
    bytes: SafetensorsBytes.file(header: "{}", declaredLength: 0), field: "header length"),

  // Encoding and syntax.
  .init(
    "header not UTF-8",
    bytes: SafetensorsBytes.file(headerBytes: [0x7B, 0x22, 0xFF, 0x22, 0x7D]), field: "header"),
  .init(
    "header with an encoded surrogate",
    bytes: SafetensorsBytes.file(
      headerBytes: Array("{\"".utf8) + [0xED, 0xA0, 0x80] + Array("\"}".utf8)),
    field: "header"),
  .init("header not JSON", header: "{dtype: F32}", field: "header"),
  .init("header a JSON array", header: "[]", field: "header"),
  .init("header a JSON string", header: #""{}""#, field: "header"),
  .init("header padded with NUL bytes", header: "{}\u{0}\u{0}", field: "header"),
  .init("header with trailing data", header: "{} {}", field: "header"),
  .init(
    "header with a trailing comma", header: "{\(entry("w")),}", data: fourBytes, field: "header"),
  .init("header cut inside a string", header: #"{"w"#, field: "header"),
  .init("header with a raw newline in a key", header: "{\"a\nb\":{}}", field: "header"),
  .init("header with a lone surrogate escape", header: #"{"\ud800":{}}"#, field: "header"),
  .init("header deeply nested", header: String(repeating: "[", count: 100_000), field: "header"),
  .init(
    "tensor entry nested deeply",
    header: #"{"w":"# + String(repeating: "[", count: 100_000), field: #"tensors["w"]"#),

  // Duplicate keys.
  .init(
    "duplicate tensor names", header: "{\(entry("w")),\(entry("w"))}", data: fourBytes,
    field: #"tensors["w"]"#),
  .init(
    "duplicate tensor names written with an escape",
    header: "{\(entry("w")),\(entry("\\u0077"))}", data: fourBytes, field: #"tensors["w"]"#),
  .init(
    "duplicate tensor names in different Unicode normalization",
    header: "{\(entry("caf\u{E9}")),\(entry("cafe\u{301}", offsets: "[4,8]"))}",
    data: fourBytes + fourBytes,
    field: #"tensors["café"]"#),
  .init(
    "duplicate dtype member",
    header: #"{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
    data: fourBytes,
    field: #"tensors["w"].dtype"#),
  .init(
    "duplicate metadata object",
    header: #"{"__metadata__":{},"__metadata__":{}}"#, field: "__metadata__"),
  .init(
    "duplicate metadata key",
    header: #"{"__metadata__":{"k":"1","k":"2"}}"#, field: #"__metadata__["k"]"#),

  // Metadata.
  .init(
    "metadata value a number", header: #"{"__metadata__":{"k":1}}"#, field: #"__metadata__["k"]"#),
  .init("metadata an array", header: #"{"__metadata__":["k"]}"#, field: "__metadata__"),
  .init("metadata null", header: #"{"__metadata__":null}"#, field: "__metadata__"),

  // Entries and dtypes.
  .init("tensor entry a string", header: #"{"w":"F32"}"#, field: #"tensors["w"]"#),
  .init(
    "unknown tensor field",
    header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, data: fourBytes,
    field: #"tensors["w"].extra"#),
  .init(
    "missing dtype", header: #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, data: fourBytes,
    field: #"tensors["w"].dtype"#),
  .init(
    "missing shape", header: #"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#, data: fourBytes,
    field: #"tensors["w"].shape"#),
  .init(
    "missing data_offsets", header: #"{"w":{"dtype":"F32","shape":[1]}}"#, data: fourBytes,
    field: #"tensors["w"].data_offsets"#),
  .init(
    "unknown dtype", header: "{\(entry("w", "F128"))}", data: fourBytes,
    field: #"tensors["w"].dtype"#),
  .init(
    "lowercase dtype", header: "{\(entry("w", "f32"))}", data: fourBytes,
    field: #"tensors["w"].dtype"#),
  .init(
    "F8_E4M3 dtype", header: "{\(entry("w", "F8_E4M3", offsets: "[0,1]"))}", data: [1],
    field: #"tensors["w"].dtype"#),
  .init(
    "F8_E5M2 dtype", header: "{\(entry("w", "F8_E5M2", offsets: "[0,1]"))}", data: [1],
    field: #"tensors["w"].dtype"#),
  .init(
    "dtype a number", header: #"{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#,
    data: fourBytes,
    field: #"tensors["w"].dtype"#),

  // Shapes.
  .init(
    "negative dimension", header: "{\(entry("w", shape: "[-1]"))}", data: fourBytes,
    field: #"tensors["w"].shape[0]"#),
  .init(
    "fractional dimension", header: "{\(entry("w", shape: "[1.5]"))}", data: fourBytes,
    field: #"tensors["w"].shape[0]"#),
  .init(
    "dimension with an exponent", header: "{\(entry("w", shape: "[1e0]"))}", data: fourBytes,
    field: #"tensors["w"].shape[0]"#),
  .init(
    "dimension a string", header: #"{\#(entry("w", shape: #"["1"]"#))}"#, data: fourBytes,
    field: #"tensors["w"].shape[0]"#),
  .init(
    "dimension null", header: "{\(entry("w", shape: "[null]"))}", data: fourBytes,
    field: #"tensors["w"].shape[0]"#),
  .init(
    "dimension over 2^64", header: "{\(entry("w", shape: "[18446744073709551616]"))}",
    data: fourBytes,
    field: #"tensors["w"].shape[0]"#),
  .init(
    "dimension over Int.max", header: "{\(entry("w", shape: "[9223372036854775808]"))}",
    data: fourBytes,
    field: #"tensors["w"].shape[0]"#),
  .init(
    "shape product overflow",
    header: "{\(entry("w", shape: "[4294967296,4294967296]", offsets: "[0,0]"))}",
    field: #"tensors["w"].shape"#),
  .init(
    "shape byte count overflow",
    header: "{\(entry("w", shape: "[4611686018427387904]", offsets: "[0,0]"))}",
    field: #"tensors["w"].shape"#),
  .init(
    "shape an object", header: "{\(entry("w", shape: "{}"))}", data: fourBytes,
    field: #"tensors["w"].shape"#),

  // Data offsets.
  .init(
    "negative offset", header: "{\(entry("w", offsets: "[-1,3]"))}", data: fourBytes,
    field: #"tensors["w"].data_offsets[0]"#),
  .init(
    "huge end offset", header: "{\(entry("w", offsets: "[0,18446744073709551615]"))}",
    data: fourBytes,
    field: #"tensors["w"].data_offsets"#),
  .init(
    "offset over 2^64", header: "{\(entry("w", offsets: "[0,18446744073709551616]"))}",
    data: fourBytes,
    field: #"tensors["w"].data_offsets[1]"#),
  .init(
    "reversed offsets", header: "{\(entry("w", offsets: "[4,0]"))}", data: fourBytes,
    field: #"tensors["w"].data_offsets"#),
  .init(
    "one offset", header: "{\(entry("w", offsets: "[4]"))}", data: fourBytes,
    field: #"tensors["w"].data_offsets"#),
  .init(
    "three offsets", header: "{\(entry("w", offsets: "[0,4,8]"))}", data: fourBytes,
    field: #"tensors["w"].data_offsets"#),
  .init(
    "fractional offset", header: "{\(entry("w", offsets: "[0,4.0]"))}", data: fourBytes,
    field: #"tensors["w"].data_offsets[1]"#),
  .init(
    "overlapping tensors",
    header: "{\(entry("a", offsets: "[0,4]")),\(entry("b", offsets: "[2,6]"))}",
    data: fourBytes + [0, 0], field: #"tensors["b"].data_offsets"#),
  .init(
    "identical ranges", header: "{\(entry("a")),\(entry("b"))}", data: fourBytes,
    field: #"tensors["b"].data_offsets"#),
  .init(
    "empty tensor inside another",
    header:
      "{\(entry("a", shape: "[2]", offsets: "[0,8]")),\(entry("b", shape: "[0]", offsets: "[4,4]"))}",
    data: fourBytes + fourBytes, field: #"tensors["b"].data_offsets"#),
  .init(
    "end outside the data section", header: "{\(entry("w", shape: "[2]", offsets: "[0,8]"))}",
    data: fourBytes,
    field: #"tensors["w"].data_offsets"#),
  .init(
    "begin outside the data section", header: "{\(entry("w", shape: "[0]", offsets: "[9,9]"))}",
    data: fourBytes,
    field: #"tensors["w"].data_offsets"#),
  .init(
    "gap between tensors",
    header: "{\(entry("a", offsets: "[0,4]")),\(entry("b", offsets: "[8,12]"))}",
    data: fourBytes + fourBytes + fourBytes, field: #"tensors["b"].data_offsets"#),
  .init(
    "gap at the start", header: "{\(entry("a", offsets: "[4,8]"))}", data: fourBytes + fourBytes,
    field: #"tensors["a"].data_offsets"#),
  .init(
    "bytes after the last tensor", header: "{\(entry("a"))}", data: fourBytes + [9],
    field: "data section"),
  .init("data without tensors", header: "{}", data: [1, 2], field: "data section"),
  .init(
    "byte length larger than shape times width", header: "{\(entry("w", offsets: "[0,8]"))}",
    data: fourBytes + fourBytes, field: #"tensors["w"].data_offsets"#),
  .init(
    "byte length smaller than shape times width",
    header: "{\(entry("w", shape: "[2]", offsets: "[0,4]"))}",
    data: fourBytes, field: #"tensors["w"].data_offsets"#),

  // Values.
  .init(
    "BOOL element that is neither 0 nor 1",
    header: "{\(entry("mask", "BOOL", shape: "[3]", offsets: "[0,3]"))}", data: [1, 0, 2],
    field: #"tensors["mask"] has the byte 0x2 at element 2"#, isInHeader: false),

  // Names.
  .init(
    "name with a .. component", header: "{\(entry("a/../b"))}", data: fourBytes,
    field: #"tensors["a/../b"]"#),
  .init("name that is ..", header: "{\(entry(".."))}", data: fourBytes, field: #"tensors[".."]"#),
  .init(
    "name with a leading slash", header: "{\(entry("/etc/passwd"))}", data: fourBytes,
    field: #"tensors["/etc/passwd"]"#),
  .init(
    "name with NUL", header: "{\(entry("a\\u0000b"))}", data: fourBytes, field: #"tensors["a\0b"]"#),
  .init(
    "name with an escape character", header: "{\(entry("a\\u001bb"))}", data: fourBytes,
    field: #"tensors["a\u{1B}b"]"#),
  .init("empty name", header: "{\(entry(""))}", data: fourBytes, field: #"tensors[""]"#),

  // Truncation.
  .init(
    "file cut inside the header",
    bytes: Array(SafetensorsBytes.file(header: "{\(entry("w"))}", data: fourBytes).prefix(30)),
    field: "header length"),
  .init(
    "file cut inside the data",
    bytes: Array(
      SafetensorsBytes.file(
        header: "{\(entry("w", shape: "[2]", offsets: "[0,8]"))}", data: fourBytes + fourBytes
      ).dropLast(3)),
    field: #"tensors["w"].data_offsets"#),
]

@Suite("Hostile safetensors files")
struct HostileSafetensorsTests {
  @Test("hostile file rejected naming field", arguments: hostileCases)
  func hostileFile(_ hostile: HostileSafetensorsCase) throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/hostile.safetensors"
      try writeFile(hostile.bytes, to: path)

      let error = try #require(throws: CheckpointError.self) {
        try SafetensorsFile(contentsOfFile: path)
      }
      #expect(error.code == hostile.code)
      #expect(error.message.contains(hostile.field), "message: \(error.message)")
      #expect(error.message.contains(path))
      #expect(error.path == path)

      if hostile.isInHeader {
        let inspectError = try #require(throws: CheckpointError.self) {
          try SafetensorsSummary(inspectingFileAt: path)
        }
        #expect(inspectError.message == error.message)
      } else {
        #expect(throws: Never.self) { try SafetensorsSummary(inspectingFileAt: path) }
      }

      let memoryError = try #require(throws: CheckpointError.self) {
        try SafetensorsFile(decoding: hostile.bytes)
      }
      #expect(memoryError.code == hostile.code)
      #expect(memoryError.message.contains(hostile.field), "message: \(memoryError.message)")
    }
  }

  @Test("symbolic link not followed")
  func symbolicLink() throws {
    try withTemporaryDirectory { directory in
      let target = directory + "/real.safetensors"
      let link = directory + "/link.safetensors"
      try SafetensorsFile(tensors: ["w": Tensor(scalar: Float(1))]).write(to: target)
      try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)

      let error = try #require(throws: CheckpointError.self) {
        try SafetensorsFile(contentsOfFile: link)
      }
      #expect(error.code == .invalidArgument)
      #expect(error.message.contains("symbolic link"))
      #expect(error.message.contains(link))

      let inspectError = try #require(throws: CheckpointError.self) {
        try SafetensorsSummary(inspectingFileAt: link)
      }
      #expect(inspectError.code == .invalidArgument)
    }
  }

  @Test("link swapped in before open rejected")
  func symbolicLinkAtOpen() throws {
    try withTemporaryDirectory { directory in
      let target = directory + "/real.safetensors"
      let link = directory + "/link.safetensors"
      try SafetensorsFile(tensors: ["w": Tensor(scalar: Float(1))]).write(to: target)
      try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)

      // The status reports a regular file, as if the link replaced it after the check; the
      // open must still refuse to follow the link.
      let error = try #require(throws: CheckpointError.self) {
        try SafetensorsFile(contentsOfFile: link, fileSystem: RegularFileStatusFileSystem())
      }
      #expect(error.code == .invalidArgument)
      #expect(error.message.contains("symbolic link"))
    }
  }

  @Test("file shrinking during read rejected")
  func fileShrinksDuringRead() throws {
    try withTemporaryDirectory { directory in
      let path = directory + "/shrunk.safetensors"
      let header = #"{"w":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#
      let bytes = SafetensorsBytes.file(header: header, data: Array(1...8))
      try writeFile(Array(bytes.dropLast(3)), to: path)

      let fileSystem = RegularFileStatusFileSystem(byteCount: Int64(bytes.count))
      let error = try #require(throws: CheckpointError.self) {
        try SafetensorsFile(contentsOfFile: path, fileSystem: fileSystem)
      }
      #expect(error.code == .invalidSafetensors)
      #expect(error.message.contains(#"tensors["w"] ends after 5 of 8 bytes"#))
    }
  }

  @Test("header length bound is inclusive")
  func headerLengthBoundary() throws {
    let bytes = SafetensorsBytes.file(
      header: "{}", declaredLength: UInt64(SafetensorsHeader.maxJSONByteCount))
    let error = try #require(throws: CheckpointError.self) { try SafetensorsFile(decoding: bytes) }
    // At the bound itself the length is allowed, so the failure is the file's length.
    #expect(error.message.contains("only 2 bytes follow the length prefix"))
  }
}

/// A file system that reports every path as a regular file of `byteCount` bytes, to reach
/// the open behind the status check, or to act as if a file shrank after it.
private struct RegularFileStatusFileSystem: ForwardingFileSystem {
  let base: any FileSystem = PosixFileSystem()
  var byteCount: Int64 = 64

  func status(at path: String) throws -> FileStatus {
    FileStatus(kind: .regular, byteCount: byteCount)
  }
}
