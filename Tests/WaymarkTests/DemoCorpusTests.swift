import Foundation
import Testing
import WaymarkCore
import WaymarkDemo

/// Creates a temporary directory, passes its path to `body`, and removes it afterwards.
private func withCorpusDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
  let path = NSTemporaryDirectory() + "waymark-demo-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try body(path)
}

/// Writes `files`, keyed by path relative to `root`, creating folders as needed.
private func writeFiles(_ files: [String: String], under root: String) throws {
  for (relativePath, contents) in files {
    let path = root + "/" + relativePath
    let folder = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try contents.write(toFile: path, atomically: false, encoding: .utf8)
  }
}

/// The real file system, except that opening `failingPath` for reading fails with `EACCES`.
private struct FileSystemFailingToOpen: ForwardingFileSystem {
  let failingPath: String
  let base: any FileSystem = PosixFileSystem()

  func openForReading(at path: String) throws -> FileDescriptor {
    if path == failingPath {
      throw FileSystemError(operation: "open", path: path, errno: EACCES)
    }
    return try base.openForReading(at: path)
  }
}

@Suite("TextCorpus")
struct DemoCorpusTests {
  @Test("vocabulary is the sorted set of bytes")
  func vocabularyIsSortedBytes() throws {
    let corpus = try TextCorpus(text: "banana bread, é")

    #expect(corpus.vocabulary == Array(" ,abdenr".utf8) + [0xA9, 0xC3])
    #expect(corpus.byteCount == 16)
    #expect(corpus.decode(corpus.tokens) == "banana bread, é")
    #expect(corpus.encode("bread") == [3, 7, 5, 2, 4])
    #expect(corpus.encode("bready") == nil)
  }

  @Test("ten bytes are enough to split")
  func tenBytesSplit() throws {
    let corpus = try TextCorpus(text: "ten bytes!")

    #expect(corpus.trainingByteCount == 9)
    #expect(corpus.validationByteCount == 1)
  }

  @Test("last tenth is held out for validation")
  func lastTenthIsHeldOut() throws {
    let corpus = try TextCorpus(text: String(repeating: "x", count: 95))

    #expect(corpus.validationStartIndex == 86)
    #expect(corpus.trainingByteCount == 86)
    #expect(corpus.validationByteCount == 9)
  }

  @Test("validation fraction is configurable")
  func validationFractionIsConfigurable() throws {
    let corpus = try TextCorpus(text: String(repeating: "x", count: 100), validationFraction: 0.25)

    #expect(corpus.validationByteCount == 25)
  }

  // Ten bytes are the fewest that leave one validation byte at the default fraction.
  @Test("text too short to split is rejected", arguments: ["", "a", "nine byte"])
  func shortTextIsRejected(text: String) throws {
    let error = try #require(throws: DemoError.self) { try TextCorpus(text: text) }
    #expect(error.code == .corpusTooSmall)
  }

  @Test("fraction out of range is rejected", arguments: [0, 1, -0.5, Double.nan])
  func fractionOutOfRangeIsRejected(fraction: Double) throws {
    let text = String(repeating: "x", count: 100)
    let error = try #require(throws: DemoError.self) {
      try TextCorpus(text: text, validationFraction: fraction)
    }
    #expect(error.code == .invalidConfiguration)
  }

  @Test("folder search reads Swift and Markdown files in path order")
  func folderSearch() throws {
    try withCorpusDirectory { root in
      try writeFiles(
        [
          "b.swift": "let b = 2\n", "a/z.md": "# z\n", "a.md": "# a\n", "notes.txt": "skip\n",
          ".build/x.swift": "skip\n", ".git/y.md": "skip\n", "a/.hidden/w.swift": "skip\n",
          "c/d/e.swift": String(repeating: "let e = 5\n", count: 5),
        ], under: root)
      let corpus = try TextCorpus(contentsOf: root + "/")

      #expect(
        corpus.filePaths == ["a.md", "a/z.md", "b.swift", "c/d/e.swift"].map { root + "/" + $0 })
      #expect(
        corpus.decode(corpus.tokens)
          == "# a\n# z\nlet b = 2\n" + String(repeating: "let e = 5\n", count: 5))
      #expect(!corpus.isTruncated)
    }
  }

  @Test("a file path is read whatever its extension")
  func singleFile() throws {
    try withCorpusDirectory { root in
      try writeFiles(["notes.txt": String(repeating: "abc ", count: 10)], under: root)
      let corpus = try TextCorpus(contentsOf: root + "/notes.txt")

      #expect(corpus.filePaths == [root + "/notes.txt"])
      #expect(corpus.byteCount == 40)
    }
  }

  @Test("a symbolic link passed as the path is followed")
  func symbolicLinkRoot() throws {
    try withCorpusDirectory { root in
      try writeFiles(["text/a.md": String(repeating: "abc ", count: 10)], under: root)
      try FileManager.default.createSymbolicLink(
        atPath: root + "/link", withDestinationPath: root + "/text")
      let corpus = try TextCorpus(contentsOf: root + "/link")

      #expect(corpus.byteCount == 40)
    }
  }

  @Test("byte limit cuts the text")
  func byteLimitCutsText() throws {
    try withCorpusDirectory { root in
      try writeFiles(
        ["a.md": String(repeating: "a", count: 30), "b.md": String(repeating: "b", count: 30)],
        under: root)
      let corpus = try TextCorpus(contentsOf: root, byteLimit: 40)

      #expect(corpus.byteCount == 40)
      #expect(corpus.isTruncated)
      #expect(
        corpus.decode(corpus.tokens) == String(repeating: "a", count: 30)
          + String(repeating: "b", count: 10))
    }
  }

  @Test("missing path error names it")
  func missingPathIsNamed() throws {
    try withCorpusDirectory { root in
      let path = root + "/missing"
      let error = try #require(throws: DemoError.self) { try TextCorpus(contentsOf: path) }

      #expect(error.code == .corpusNotFound)
      #expect(error.path == path)
      #expect(error.message.contains(path))
    }
  }

  @Test("folder without matching files is rejected")
  func folderWithoutMatchesIsRejected() throws {
    try withCorpusDirectory { root in
      try writeFiles(["notes.txt": "text\n", ".git/HEAD.md": "ref\n"], under: root)
      let error = try #require(throws: DemoError.self) { try TextCorpus(contentsOf: root) }

      #expect(error.code == .corpusNotFound)
      #expect(error.message.contains(root))
    }
  }

  @Test("unreadable file error names it")
  func unreadableFileIsNamed() throws {
    try withCorpusDirectory { root in
      try writeFiles(["a.md": "# a\n", "b.swift": "let b = 2\n"], under: root)
      let failingPath = root + "/b.swift"
      let error = try #require(throws: DemoError.self) {
        try TextCorpus(
          contentsOf: root, fileSystem: FileSystemFailingToOpen(failingPath: failingPath))
      }

      #expect(error.code == .unreadableCorpus)
      #expect(error.path == failingPath)
      #expect(error.message.contains(failingPath))
      #expect(error.underlying is FileSystemError)
    }
  }
}
