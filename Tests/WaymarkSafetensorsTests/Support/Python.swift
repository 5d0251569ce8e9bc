import Foundation
import Testing

/// Python packages that a group of interop tests imports, and whether `python3` has them.
struct PythonPackages: Sendable {
  /// The module names, as `import` takes them.
  let names: [String]

  /// Whether `python3` can import every package, checked once when the value is made.
  let isAvailable: Bool

  init(_ names: [String]) {
    self.names = names
    let imports = "import " + names.joined(separator: ", ")
    let result = try? withTemporaryDirectory { directory in
      try Python.run(arguments: ["-c", imports], in: directory)
    }
    isAvailable = result?.status == 0
  }

  /// Whether the tests run: they run when the packages are installed, and in CI, where a
  /// missing package is a failure.
  var shouldRunTests: Bool { isAvailable || Python.isRequired }

  /// The names in prose: "numpy", "safetensors and numpy", "numpy, zstandard and xxhash".
  private var listed: String {
    names.count < 2
      ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
  }

  /// The message shown when the tests are skipped.
  var skipMessage: Comment {
    "python3 with the \(listed) packages is not installed; run 'pip install \(names.joined(separator: " "))' to run these tests"
  }

  /// Fails the current test unless the packages are installed.
  func requireAvailable(sourceLocation: SourceLocation = #_sourceLocation) throws {
    try #require(
      isAvailable,
      "CI is set but python3 cannot import \(listed); install them with 'pip install \(names.joined(separator: " "))'",
      sourceLocation: sourceLocation)
  }
}

/// Runs Python scripts that use the `safetensors` and `numpy` packages, the reference
/// readers and writers that interop tests check against.
enum Python {
  /// The packages of the safetensors and TensorBoard interop tests.
  static let interop = PythonPackages(["safetensors", "numpy"])

  /// Whether `python3` can import `safetensors` and `numpy`, checked once per test run.
  static var isAvailable: Bool { interop.isAvailable }

  /// Whether a missing Python package fails the tests instead of skipping them: true when
  /// the `CI` environment variable is set.
  static let isRequired = ProcessInfo.processInfo.environment["CI"] != nil

  /// Whether interop tests run: they run when the packages are installed, and in CI, where
  /// a missing package is a failure.
  static var shouldRunInteropTests: Bool { interop.shouldRunTests }

  /// The message shown when interop tests are skipped.
  static var skipMessage: Comment { interop.skipMessage }

  /// Fails the current test unless the packages are installed.
  static func requireAvailable(sourceLocation: SourceLocation = #_sourceLocation) throws {
    try interop.requireAvailable(sourceLocation: sourceLocation)
  }

  /// Writes `script` to `script.py` in `directory`, runs it there with the given arguments,
  /// and returns its standard output.
  ///
  /// - Throws: An error whose description contains the exit status and standard error when the
  ///   script exits with a non-zero status.
  static func runScript(_ script: String, in directory: String, arguments: [String] = []) throws
    -> String
  {
    let scriptPath = directory + "/script.py"
    try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
    let result = try run(arguments: [scriptPath] + arguments, in: directory)
    guard result.status == 0 else {
      throw ScriptFailure(status: result.status, standardError: result.standardError)
    }
    return result.standardOutput
  }

  /// A script that exited with a non-zero status.
  struct ScriptFailure: Error, CustomStringConvertible {
    var status: Int32
    var standardError: String

    var description: String {
      "python3 exited with status \(status):\n\(standardError)"
    }
  }

  /// Runs `python3` with `arguments` in `directory` and returns its exit status, its standard
  /// output and its standard error.
  ///
  /// Standard error goes to a file in `directory` instead of a pipe, so a script that writes
  /// a lot to it cannot block while this process reads standard output.
  static func run(arguments: [String], in directory: String) throws -> (
    status: Int32, standardOutput: String, standardError: String
  ) {
    let errorPath = directory + "/stderr.txt"
    guard FileManager.default.createFile(atPath: errorPath, contents: nil) else {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: errorPath])
    }
    let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    defer { try? errorFile.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let output = Pipe()
    process.standardOutput = output
    process.standardError = errorFile
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errorData = (try? Data(contentsOf: URL(fileURLWithPath: errorPath))) ?? Data()
    return (
      process.terminationStatus, String(decoding: outputData, as: UTF8.self),
      String(decoding: errorData, as: UTF8.self)
    )
  }
}
