import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

/// Whether `python3` can import the `tensorboard` package, and whether it must.
enum TensorBoardPython {
  static let isAvailable: Bool =
    (try? runProcess("/usr/bin/env", ["python3", "-c", "import tensorboard"]).status) == 0

  /// On CI the interop test runs even without the package, so that it fails loudly.
  static let isRequired = ProcessInfo.processInfo.environment["CI"] != nil

  static let script = """
    import json, sys
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
    accumulator.Reload()
    print(json.dumps({
        tag: [[event.step, repr(event.value), event.wall_time] for event in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()["scalars"]
    }))
    """

  /// Reads the scalars of a TensorBoard directory with TensorBoard's own reader.
  static func readScalars(directory: String) throws -> [String: [(
    step: Int, value: Double, wallTime: Double
  )]] {
    let result = try runProcess("/usr/bin/env", ["python3", "-c", script, directory])
    try #require(
      result.status == 0, "python3 failed; is tensorboard installed? (pip install tensorboard)")
    let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
    let tags = try #require(object as? [String: [[Any]]])
    return try tags.mapValues { events in
      try events.map { event in
        let step = try #require(event[0] as? Int)
        let text = try #require(event[1] as? String)
        let value = try #require(Double(text))
        let wallTime = try #require(event[2] as? Double)
        return (step, value, wallTime)
      }
    }
  }

  /// Runs ``expectSameScalars(in:sourceLocation:)`` when TensorBoard is installed or
  /// required, and does nothing otherwise.
  static func expectSameScalarsIfAvailable(
    in layout: RunLayout, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    guard isAvailable || isRequired else { return }
    try expectSameScalars(in: layout, sourceLocation: sourceLocation)
  }

  /// Checks that TensorBoard reads exactly the tags, steps and values that readers of
  /// `metrics.jsonl` return, with values rounded to 32-bit floats as TensorBoard stores them.
  static func expectSameScalars(
    in layout: RunLayout, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let history = try MetricHistory.read(from: layout.metricsFile)
    let scalars = try readScalars(directory: layout.tensorBoardDirectory)
    #expect(Set(scalars.keys) == Set(history.series.keys), sourceLocation: sourceLocation)
    for (tag, points) in history.series {
      let events = scalars[tag] ?? []
      #expect(
        events.map(\.step) == points.map(\.step), "steps of \(tag)", sourceLocation: sourceLocation)
      for (event, point) in zip(events, points) {
        let expected = Double(Float(point.value))
        let matches = expected.isNaN ? event.value.isNaN : event.value == expected
        #expect(
          matches, "\(tag) at step \(point.step): \(event.value) != \(expected)",
          sourceLocation: sourceLocation)
        #expect(abs(event.wallTime - point.wallTime) < 1e-3, sourceLocation: sourceLocation)
      }
    }
  }
}

@Suite("TensorBoard")
struct TensorBoardTests {
  /// Vectors from RFC 3720, appendix B.4, and the check value of the CRC catalogue.
  static let knownChecksums: [(bytes: [UInt8], crc: UInt32)] = [
    (Array("123456789".utf8), 0xE306_9283),
    ([], 0),
    ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
    ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
    (Array(0...31), 0x46DD_794E),
    (Array((0...31).reversed()), 0x113F_DB5C),
  ]

  @Test("CRC-32C matches known vectors", arguments: knownChecksums)
  func crcVectors(bytes: [UInt8], expected: UInt32) {
    #expect(CRC32C.checksum(bytes) == expected)
  }

  @Test("slicing-by-8 agrees with the bitwise definition at every length")
  func crcMatchesBitwise() {
    func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
      var crc: UInt32 = 0xFFFF_FFFF
      for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
      }
      return crc ^ 0xFFFF_FFFF
    }
    var generator = SystemRandomNumberGenerator()
    let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
    for length in 0..<data.count {
      let slice = data[3..<(3 + length - min(length, 3))]
      #expect(CRC32C.checksum(Array(slice)) == bitwise(slice), "length \(slice.count)")
    }
  }

  @Test("masked CRC matches the TFRecord definition")
  func maskedChecksum() {
    let bytes = Array("123456789".utf8)
    let crc: UInt32 = 0xE306_9283
    let expected = ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    #expect(bytes.withUnsafeBytes(CRC32C.maskedChecksum) == expected)
  }

  @Test("event file records have valid TFRecord framing")
  func framing() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      for step in 0..<3 { try run.log("loss", Double(step), step: step) }
      try await run.finish()

      let files = try FileManager.default.contentsOfDirectory(
        atPath: run.layout.tensorBoardDirectory)
      #expect(files.count == 1)
      let name = try #require(files.first)
      #expect(name.hasPrefix("events.out.tfevents."))
      #expect(name.hasSuffix(".\(ProcessIdentity.hostName).\(getpid()).\(name.suffix(6))"))
      let bytes = [UInt8](
        try Data(contentsOf: URL(fileURLWithPath: "\(run.layout.tensorBoardDirectory)/\(name)")))

      var offset = 0
      var records: [[UInt8]] = []
      while offset < bytes.count {
        let header = Array(bytes[offset..<(offset + 8)])
        let length = header.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        let lengthCRC = bytes[(offset + 8)..<(offset + 12)].withUnsafeBytes {
          $0.loadUnaligned(as: UInt32.self)
        }
        #expect(lengthCRC == header.withUnsafeBytes(CRC32C.maskedChecksum))
        let data = Array(bytes[(offset + 12)..<(offset + 12 + Int(length))])
        let dataCRC = bytes[(offset + 12 + Int(length))..<(offset + 16 + Int(length))]
          .withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        #expect(dataCRC == data.withUnsafeBytes(CRC32C.maskedChecksum))
        records.append(data)
        offset += 16 + Int(length)
      }
      #expect(offset == bytes.count)
      #expect(records.count == 4)
      // The first record carries file_version (field 3, wire type 2, key 0x1A).
      #expect(String(decoding: records[0].suffix(13), as: UTF8.self) == "brain.Event:2")
      #expect(records[0][9] == 0x1A)
    }
  }

  @Test(
    "TensorBoard reads every tag, step and value of metrics.jsonl",
    .enabled(
      if: TensorBoardPython.isAvailable || TensorBoardPython.isRequired,
      "python3 cannot import tensorboard; run pip install tensorboard, or set CI to make this a failure"
    ))
  func tensorBoardInterop() async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      for step in 0..<50 {
        try run.log("train/loss", 2.0 / Double(step + 1), step: step)
        if step % 10 == 0 {
          try run.log(
            ["eval/accuracy": Double(step) / 100, "eval/top-5 accuracy": 0.3], step: step, epoch: 1)
        }
      }
      try run.log("special", .nan, step: 50)
      try run.log("special", .infinity, step: 51)
      try run.log("special", -.infinity, step: 52)
      try run.log("special", 1e-40, step: 53)
      try await run.finish()
      try TensorBoardPython.expectSameScalars(in: run.layout)
    }
  }

  @Test(
    "TensorBoard drops repeated steps after a resume like metrics readers",
    .enabled(
      if: TensorBoardPython.isAvailable || TensorBoardPython.isRequired,
      "python3 cannot import tensorboard; run pip install tensorboard, or set CI to make this a failure"
    ),
    arguments: [nil, 4] as [Int?])
  func tensorBoardResumeInterop(fromStep: Int?) async throws {
    try await withTemporaryDirectory { root in
      let run = try await Run.start(experiment: "e", in: root, options: testOptions())
      for step in 0..<10 {
        try run.log(["loss": Double(step), "acc": Double(step) / 10], step: step)
      }
      let crashed = try await copyAsCrashed(run, to: "\(root)/crashed")
      try await run.finish()

      let resumed = try await Run.resume(at: crashed, fromStep: fromStep, options: testOptions())
      for step in 6..<12 { try resumed.log("loss", 100 + Double(step), step: step) }
      try await resumed.finish()

      let layout = RunLayout(directory: crashed)
      #expect(
        try FileManager.default.contentsOfDirectory(atPath: layout.tensorBoardDirectory).count == 2)
      try TensorBoardPython.expectSameScalars(in: layout)
    }
  }
}
