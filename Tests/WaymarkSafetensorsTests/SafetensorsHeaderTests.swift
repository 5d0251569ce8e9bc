import Testing
import WaymarkCheckpoint

@testable import WaymarkSafetensors

@Suite("SafetensorsHeader")
struct SafetensorsHeaderTests {
  @Test("empty header is valid")
  func emptyHeader() throws {
    let header = try SafetensorsHeader(parsingFile: SafetensorsBytes.file(header: "{}      "))
    #expect(header.tensors.isEmpty)
    #expect(header.metadata.isEmpty)
    #expect(header.jsonByteCount == 8)
    #expect(header.dataByteCount == 0)
    #expect(header.fileByteCount == 16)
  }

  @Test("tensors sorted by data offset")
  func dataOrder() throws {
    let json = """
      {
        "second": {"data_offsets": [4, 6], "shape": [1], "dtype": "I16"},
        "first": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
        "empty": {"dtype": "F64", "shape": [0, 5], "data_offsets": [6, 6]}
      }
      """
    let header = try SafetensorsHeader(parsingJSON: Array(json.utf8), dataByteCount: 6)
    #expect(header.tensors.map(\.name) == ["first", "second", "empty"])
    #expect(
      header.tensors[0]
        == SafetensorsTensorInfo(name: "first", dtype: .float32, shape: [], dataOffsets: 0..<4))
    #expect(header.tensors[1].dtype == .int16)
    #expect(header.tensors[2].shape == [0, 5])
    #expect(header.tensors[2].byteCount == 0)
  }

  @Test("empty tensors may share an offset")
  func emptyTensorsShareOffset() throws {
    let json =
      #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"c":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
    let header = try SafetensorsHeader(parsingJSON: Array(json.utf8), dataByteCount: 2)
    #expect(header.tensors.map(\.name) == ["a", "b", "c"])
  }

  @Test("metadata and names decode JSON escapes")
  func escapes() throws {
    let json =
      #"{"__metadata__":{"note":"tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00","":""},"caf\u00e9":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}"#
    let header = try SafetensorsHeader(parsingJSON: Array(json.utf8), dataByteCount: 1)
    #expect(header.metadata == ["note": "tab\there \"q\" \\ / é 😀", "": ""])
    #expect(header.tensors.map(\.name) == ["café"])
  }

  @Test("dtype names map to DType")
  func dtypeNames() {
    for dtype in DType.allCases {
      #expect(DType(safetensorsName: dtype.safetensorsName) == dtype)
    }
    #expect(DType(safetensorsName: "F8_E4M3") == nil)
    #expect(DType(safetensorsName: "f32") == nil)
  }

  @Test("oversized JSON header rejected")
  func jsonOverLimit() throws {
    let json = [UInt8](repeating: UInt8(ascii: " "), count: SafetensorsHeader.maxJSONByteCount + 1)
    let error = try #require(throws: CheckpointError.self) {
      try SafetensorsHeader(parsingJSON: json, dataByteCount: 0)
    }
    #expect(error.code == .invalidSafetensors)
    #expect(error.message.contains("header length"))
  }

  @Test("negative data byte count rejected")
  func negativeDataByteCount() throws {
    let error = try #require(throws: CheckpointError.self) {
      try SafetensorsHeader(parsingJSON: Array("{}".utf8), dataByteCount: -1)
    }
    #expect(error.code == .invalidArgument)
  }

  @Test("in-memory errors name no path")
  func inMemoryMessage() throws {
    let error = try #require(throws: CheckpointError.self) {
      try SafetensorsHeader(parsingJSON: Array("[]".utf8), dataByteCount: 0)
    }
    #expect(error.message.hasPrefix("invalid safetensors data: header must be a JSON object"))
    #expect(error.path == nil)
  }

  @Test("long names shortened in messages")
  func longNamesShortened() throws {
    let name = String(repeating: "x", count: 5000)
    let json = #"{"\#(name)":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
    let error = try #require(throws: CheckpointError.self) {
      try SafetensorsHeader(parsingJSON: Array(json.utf8), dataByteCount: 1)
    }
    #expect(error.message.contains("more than the limit of 1024"))
    #expect(error.message.count < 400)
  }
}

@Suite("JSONScanner")
struct JSONScannerTests {
  @Test(
    "numbers are classified",
    arguments: [
      ("0", false, false, UInt64(0) as UInt64?),
      ("18446744073709551615", false, false, UInt64.max),
      ("18446744073709551616", false, false, nil),
      ("-0", true, false, nil),
      ("-12", true, false, nil),
      ("1.5", false, true, nil),
      ("2e3", false, true, nil),
      ("2E-3", false, true, nil),
    ])
  func numbers(text: String, isNegative: Bool, hasFraction: Bool, value: UInt64?) throws {
    var scanner = JSONScanner(Array(text.utf8))
    let number = try scanner.readNumber()
    #expect(number.isNegative == isNegative)
    #expect(number.hasFractionOrExponent == hasFraction)
    #expect(number.unsignedValue == value)
    #expect(scanner.isAtEnd)
  }

  @Test("malformed numbers are syntax errors", arguments: ["01", "-", "1.", "1e", "+1", ".5"])
  func malformedNumbers(text: String) {
    var scanner = JSONScanner(Array(text.utf8))
    #expect(throws: JSONSyntaxError.self) { try scanner.readNumber() }
  }

  @Test(
    "malformed strings are syntax errors",
    arguments: [
      #""open"#, "\"raw\u{1}control\"", #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#,
      #""\ud800\u0041""#, #""\u00g0""#,
    ])
  func malformedStrings(text: String) {
    var scanner = JSONScanner(Array(text.utf8))
    #expect(throws: JSONSyntaxError.self) { try scanner.readString() }
  }

  @Test("UTF-8 validation finds bad byte")
  func utf8Validation() {
    #expect(JSONScanner.validateUTF8(Array("ok é 😀".utf8)) == nil)
    #expect(JSONScanner.validateUTF8([0x61, 0xFF]) == 1)
    #expect(JSONScanner.validateUTF8([0x61, 0x62, 0xC0, 0xAF]) == 2)
    #expect(JSONScanner.validateUTF8([0xED, 0xA0, 0x80]) == 0)
    #expect(JSONScanner.validateUTF8([0x61, 0xE2, 0x82]) == 1)
  }
}
