import Testing
import WaymarkCore

@Suite("JSON parser")
struct JSONParserTests {
  private func parse(_ text: String) -> JSONValue? {
    JSONParser.parse(Array(text.utf8))
  }

  @Test("parses objects, arrays, escapes and numbers")
  func parsesValues() {
    let value = parse(
      #" {"a": [1, -2.5e3, 18446744073709551615, true, null], "b\u00e9\"": "x\ny\ud83d\ude00" } "#)
    #expect(
      value == [
        "a": [1, -2500.0, .unsignedInt(18_446_744_073_709_551_615), true, nil], "bé\"": "x\ny😀",
      ])
  }

  @Test(
    "rejects anything that is not exactly one JSON value",
    arguments: [
      "", "{", #"{"a":1"#, #"{"a":}"#, "[1,]", "01", "1.", "-", "tru", #""unterminated"#,
      #"{"a":1} x"#,
      "\"raw\ncontrol\"", #""\ud800""#, "NaN", "+1",
    ])
  func rejectsInvalid(text: String) {
    let value = parse(text)
    // Compared with `.none`, because a bare `nil` could mean JSONValue.null here.
    #expect(value == .none)
  }

  @Test("deep nesting is rejected instead of overflowing the stack")
  func deepNesting() {
    #expect(parse(String(repeating: "[", count: 10_000)) == .none)
    #expect(parse(String(repeating: "[", count: 10) + String(repeating: "]", count: 10)) != .none)
  }

  @Test("rejects a duplicate key only when asked to")
  func duplicateKeys() {
    let text = Array(#"{"a": 1, "b": {"a": 2, "a": 3}}"#.utf8)
    #expect(JSONParser.parse(text) == ["a": 1, "b": ["a": 3]])
    #expect(JSONParser.parse(text, options: .init(rejectsDuplicateKeys: true)) == nil)
    let escaped = Array(#"{"a": 1, "\u0061": 2}"#.utf8)
    #expect(JSONParser.parse(escaped, options: .init(rejectsDuplicateKeys: true)) == nil)
  }

  @Test("stops at the nesting limit it is given")
  func nestingLimit() {
    let text = Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)
    #expect(JSONParser.parse(text) == nil)
    #expect(JSONParser.parse(text, options: .init(maxDepth: 100)) != nil)
  }

  @Test("numbers beyond a double's range fail")
  func outOfRangeNumbers() {
    #expect(parse("1e999") == nil)
    #expect(parse("[-1e400]") == nil)
    #expect(parse("1e308") == .double(1e308))
    #expect(parse("1e-400") == nil)
    #expect(parse("0.0e-400") == .double(0))
    #expect(parse("5e-324") == .double(.leastNonzeroMagnitude))
  }
}
