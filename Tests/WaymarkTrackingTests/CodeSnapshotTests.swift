import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Code snapshot")
struct CodeSnapshotTests {
  /// Creates a git repository with one commit and one uncommitted change.
  private func makeRepository(at path: String) throws {
    let fileManager = FileManager.default
    try fileManager.createDirectory(atPath: "\(path)/Sources", withIntermediateDirectories: true)
    try "print(1)\n".write(toFile: "\(path)/Sources/main.swift", atomically: true, encoding: .utf8)
    try String(repeating: "x", count: 10_000).write(
      toFile: "\(path)/big.txt", atomically: true, encoding: .utf8)
    try "small\n".write(toFile: "\(path)/small.txt", atomically: true, encoding: .utf8)
    let git = "/usr/bin/git"
    let identity = ["-c", "user.name=Waymark Test", "-c", "user.email=test@example.com"]
    #expect(try runProcess(git, ["init", "-q", path]).status == 0)
    #expect(try runProcess(git, ["-C", path, "add", "."]).status == 0)
    #expect(
      try runProcess(git, ["-C", path] + identity + ["commit", "-q", "-m", "initial"]).status == 0)
    try "print(2)\n".write(toFile: "\(path)/Sources/main.swift", atomically: true, encoding: .utf8)
    try "untracked\n".write(toFile: "\(path)/untracked.txt", atomically: true, encoding: .utf8)
  }

  @Test("git snapshot copies tracked files and the patch")
  func gitSnapshot() async throws {
    try await withTemporaryDirectory { root in
      let repository = "\(root)/repo"
      try makeRepository(at: repository)
      var options = testOptions()
      options.codeSnapshot = CodeSnapshotOptions(source: .git(directory: repository))
      options.workingDirectory = repository
      options.probesSlowEnvironment = true
      let run = try await Run.start(experiment: "e", in: "\(root)/runs", options: options)
      await run.waitForBackgroundWork()
      try await run.finish()

      let code = run.layout.codeDirectory
      #expect(
        try String(contentsOfFile: "\(code)/Sources/main.swift", encoding: .utf8) == "print(2)\n")
      #expect(FileManager.default.fileExists(atPath: "\(code)/big.txt"))
      #expect(!FileManager.default.fileExists(atPath: "\(code)/untracked.txt"))
      let patch = try String(contentsOfFile: "\(code)/uncommitted.patch", encoding: .utf8)
      #expect(patch.contains("+print(2)"))

      let record = try RunFiles.readRecord(layout: run.layout)
      let report = try #require(record.codeSnapshot)
      #expect(report.outcome == .complete)
      #expect(report.copiedFileCount == 3)
      #expect(report.patchByteCount == Int64(patch.utf8.count))

      let git = try #require(record.environment.git)
      #expect(git.commit?.count == 40)
      #expect(git.isDirty == true)
      #expect(record.environment.slowProbesCompleted)
      let events = try RunFiles.readEvents(layout: run.layout)
      #expect(events.contains { $0.kind == .codeSnapshotCompleted })
    }
  }

  @Test("byte cap is reported in run.json and as an event")
  func capReported() async throws {
    try await withTemporaryDirectory { root in
      let repository = "\(root)/repo"
      try makeRepository(at: repository)
      var options = testOptions()
      options.codeSnapshot = CodeSnapshotOptions(
        source: .git(directory: repository), maxByteCount: 2_000)
      let run = try await Run.start(experiment: "e", in: "\(root)/runs", options: options)
      await run.waitForBackgroundWork()
      try await run.finish()

      let report = try #require(try RunFiles.readRecord(layout: run.layout).codeSnapshot)
      #expect(report.outcome == .truncated)
      #expect(report.skippedFileCount == 1)
      #expect(report.skippedByteCount == 10_000)
      #expect(report.copiedFileCount == 2)
      #expect(report.copiedByteCount <= 2_000)
      #expect(!FileManager.default.fileExists(atPath: "\(run.layout.codeDirectory)/big.txt"))
      #expect(FileManager.default.fileExists(atPath: "\(run.layout.codeDirectory)/small.txt"))

      let event = try #require(
        try RunFiles.readEvents(layout: run.layout).first { $0.kind == .codeSnapshotTruncated })
      #expect(event.data?["skippedFileCount"] == 1)
      #expect(event.message.contains("2000 bytes"))
    }
  }

  @Test("patch larger than the cap is cut and reported")
  func patchCut() async throws {
    try await withTemporaryDirectory { root in
      let repository = "\(root)/repo"
      try makeRepository(at: repository)
      try String(repeating: "changed line\n", count: 500).write(
        toFile: "\(repository)/small.txt", atomically: true, encoding: .utf8)
      var options = testOptions()
      options.codeSnapshot = CodeSnapshotOptions(
        source: .git(directory: repository), maxByteCount: 1_000)
      let run = try await Run.start(experiment: "e", in: "\(root)/runs", options: options)
      await run.waitForBackgroundWork()
      try await run.finish()

      let report = try #require(try RunFiles.readRecord(layout: run.layout).codeSnapshot)
      #expect(report.outcome == .truncated)
      #expect(report.isPatchTruncated)
      #expect((report.patchByteCount ?? 0) > 1_000)
      let patch = try Data(
        contentsOf: URL(fileURLWithPath: "\(run.layout.codeDirectory)/uncommitted.patch"))
      #expect(patch.count == 1_000)
    }
  }

  @Test("directory snapshot copies files outside git and skips excluded names")
  func directorySnapshot() async throws {
    try await withTemporaryDirectory { root in
      let source = "\(root)/project"
      try FileManager.default.createDirectory(
        atPath: "\(source)/nested/__pycache__", withIntermediateDirectories: true)
      try "a".write(toFile: "\(source)/nested/train.py", atomically: true, encoding: .utf8)
      try "b".write(
        toFile: "\(source)/nested/__pycache__/train.pyc", atomically: true, encoding: .utf8)
      try FileManager.default.createSymbolicLink(
        atPath: "\(source)/link", withDestinationPath: "/etc/passwd")
      var options = testOptions()
      options.codeSnapshot = CodeSnapshotOptions(source: .directories([source]))
      let run = try await Run.start(experiment: "e", in: "\(root)/runs", options: options)
      await run.waitForBackgroundWork()
      try await run.finish()

      let code = run.layout.codeDirectory
      #expect(try String(contentsOfFile: "\(code)/project/nested/train.py", encoding: .utf8) == "a")
      #expect(!FileManager.default.fileExists(atPath: "\(code)/project/nested/__pycache__"))
      #expect(!FileManager.default.fileExists(atPath: "\(code)/project/link"))
      let report = try #require(try RunFiles.readRecord(layout: run.layout).codeSnapshot)
      #expect(report.outcome == .complete)
      #expect(report.copiedFileCount == 1)
      #expect(report.unreadableFileCount == 1)
    }
  }

  @Test("snapshot outside a git work tree fails with a warning event")
  func notAGitTree() async throws {
    try await withTemporaryDirectory { root in
      var options = testOptions()
      options.codeSnapshot = CodeSnapshotOptions(source: .git(directory: root))
      let run = try await Run.start(experiment: "e", in: "\(root)/runs", options: options)
      await run.waitForBackgroundWork()
      try await run.finish()
      let report = try #require(try RunFiles.readRecord(layout: run.layout).codeSnapshot)
      #expect(report.outcome == .failed)
      #expect(report.failure?.contains("git work tree") == true)
      #expect(try RunFiles.readEvents(layout: run.layout).contains { $0.kind == .warning })
    }
  }
}
