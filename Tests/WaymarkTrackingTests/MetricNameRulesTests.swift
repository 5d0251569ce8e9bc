import Testing

@testable import WaymarkTracking

@Suite("Metric name rules")
struct MetricNameRulesTests {
  static let invalidNames: [(name: String, reason: String)] = [
    ("", "is empty"),
    ("/loss", "starts with '/'"),
    ("loss/", "ends with '/'"),
    ("train//loss", "empty component"),
    ("train/../loss", "'..' component"),
    ("..", "'..' component"),
    ("./loss", "'.' component"),
    ("train/.", "'.' component"),
    ("line\nbreak", "control character"),
    ("tab\there", "control character"),
    ("nul\u{0}byte", "control character"),
    ("delete\u{7f}", "control character"),
    ("c1\u{85}next-line", "control character"),
    ("windows\\path", "backslash"),
    (String(repeating: "x", count: 257), "257 bytes"),
  ]

  @Test("invalid names are rejected", arguments: invalidNames)
  func rejected(name: String, reason: String) throws {
    let error = #expect(throws: TrackingError.self) { try MetricNameRules.validate(name) }
    #expect(error?.code == .invalidMetricName)
    #expect(error?.metric == name)
    #expect(error?.message.contains(reason) == true, "message: \(error?.message ?? "")")
    #expect(error?.message.contains("train/loss") == true, "the message suggests a valid name")
  }

  @Test(
    "valid names are accepted",
    arguments: [
      "loss", "train/loss", "eval/top-1 accuracy", "lr/group.0", "a...b", ".hidden/x", "λ/ünïcode",
      String(repeating: "x", count: 256),
    ])
  func accepted(name: String) throws {
    try MetricNameRules.validate(name)
  }

  @Test("message escapes control characters")
  func messageStaysOneLine() {
    let error = #expect(throws: TrackingError.self) { try MetricNameRules.validate("bad\nname") }
    #expect(error?.message.contains("\n") == false)
  }
}
