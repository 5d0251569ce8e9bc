import Foundation
@_exported import WaymarkTestSupport

/// Writes a few kilobytes of English-like text whose statistics a small model learns fast.
func writeSampleCorpus(to path: String, sentenceCount: Int = 400) throws {
  let subjects = ["the model", "a checkpoint", "the writer", "each chunk", "the run", "a reader"]
  let verbs = ["saves", "loads", "checks", "writes", "commits", "verifies"]
  let objects = [
    "the state", "every tensor", "its manifest", "the data", "a summary", "the metrics",
  ]
  var generator = SplitMix64(state: 42)
  var text = ""
  for _ in 0..<sentenceCount {
    let subject = subjects[Int(generator.next() % UInt64(subjects.count))]
    let verb = verbs[Int(generator.next() % UInt64(verbs.count))]
    let object = objects[Int(generator.next() % UInt64(objects.count))]
    text += "\(subject) \(verb) \(object).\n"
  }
  try text.write(toFile: path, atomically: true, encoding: .utf8)
}

/// Finds the built `waymark` executable: next to the test bundle, where `swift test` puts
/// every product of the package, or in `.build/debug` of the package.
func locateWaymarkExecutable() throws -> String {
  if let path = ProcessInfo.processInfo.environment["WAYMARK_EXECUTABLE"] { return path }
  let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  let directories = [
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
    Bundle.main.bundleURL.deletingLastPathComponent(),
    Bundle.main.bundleURL,
    packageRoot.appendingPathComponent(".build/debug"),
  ]
  for directory in directories {
    let candidate = directory.appendingPathComponent("waymark").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
  }
  struct MissingExecutable: Error, CustomStringConvertible {
    var description: String {
      "the waymark executable was not found next to the tests; run 'swift build' first or set WAYMARK_EXECUTABLE"
    }
  }
  throw MissingExecutable()
}
