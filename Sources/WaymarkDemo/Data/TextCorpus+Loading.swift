public import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension TextCorpus {
  /// File extensions, without the dot, that a folder search reads.
  public static let searchedFileExtensions: Set<String> = ["swift", "md"]

  /// Loads the text of a file, or of every `.swift` and `.md` file under a folder.
  ///
  /// A folder is searched recursively. Entries whose names start with `.` (such as `.build`
  /// and `.git`) are skipped, and so are Waymark run directories (folders with a `run.json`,
  /// whose code snapshots repeat the sources) and symbolic links below the folder, so a link
  /// cycle cannot make the search loop. The files are read in ascending order of their paths'
  /// UTF-8 bytes and concatenated, so the same tree always gives the same text. A file passed
  /// directly is read whatever its extension. A symbolic link passed as `path` is resolved.
  ///
  /// - Parameters:
  ///   - path: A file or folder.
  ///   - validationFraction: Share of the text, taken from its end, held out for validation;
  ///     greater than 0 and less than 1. Defaults to 0.1.
  ///   - byteLimit: The maximum number of bytes to read. Reading stops when the files read so far reach
  ///     it, and the last file is cut at the limit. Defaults to ``defaultByteLimit`` (8 MiB).
  ///   - fileSystem: The file system to read through. Defaults to the real one.
  /// - Throws: ``DemoError`` naming the path involved. The code is `.corpusNotFound` when
  ///   `path` does not exist or the folder contains no matching file, and
  ///   `.unreadableCorpus` when a folder cannot be listed or a file cannot be read. It is
  ///   `.corpusTooSmall` when the files contain too little text, and
  ///   `.invalidConfiguration` for an out-of-range fraction or limit.
  public init(
    contentsOf path: String, validationFraction: Double = defaultValidationFraction,
    byteLimit: Int = defaultByteLimit, fileSystem: some FileSystem = PosixFileSystem()
  ) throws {
    guard byteLimit > 0 else {
      throw DemoError(
        .invalidConfiguration, "byte limit \(byteLimit) is out of range; pass a positive number",
        path: path)
    }
    let root: String
    let rootStatus: FileStatus
    do {
      let trimmed = Self.trimmingTrailingSlashes(path)
      let status = try fileSystem.status(at: trimmed)
      if status.kind == .symbolicLink, let target = Self.symbolicLinkTarget(of: trimmed) {
        root = target
        rootStatus = try fileSystem.status(at: target)
      } else {
        root = trimmed
        rootStatus = status
      }
    } catch let error as FileSystemError where error.errno == ENOENT {
      throw DemoError(
        .corpusNotFound, "corpus path '\(path)' does not exist; pass a text file or a folder",
        path: path, underlying: error)
    } catch {
      throw DemoError(
        .unreadableCorpus, "failed to read the status of corpus path '\(path)'", path: path,
        underlying: error)
    }

    let files: [String]
    switch rootStatus.kind {
    case .regular:
      files = [root]
    case .directory:
      files = try Self.searchFiles(under: root, fileSystem: fileSystem)
      guard !files.isEmpty else {
        throw DemoError(
          .corpusNotFound,
          "no .swift or .md files found under '\(path)'; pass a folder that contains some, or a text file",
          path: path)
      }
    case .symbolicLink, .other:
      throw DemoError(
        .unreadableCorpus,
        "corpus path '\(path)' is neither a regular file nor a folder; pass a text file or a folder",
        path: path)
    }

    var bytes: [UInt8] = []
    var readPaths: [String] = []
    var isTruncated = false
    for file in files {
      let remaining = byteLimit - bytes.count
      if remaining == 0 {
        isTruncated = true
        break
      }
      let fileBytes = try Self.readFile(at: file, maxByteCount: remaining, fileSystem: fileSystem)
      bytes += fileBytes.bytes
      readPaths.append(file)
      if fileBytes.isTruncated {
        isTruncated = true
        break
      }
    }

    try self.init(
      bytes: bytes, validationFraction: validationFraction, filePaths: readPaths,
      isTruncated: isTruncated, sourceDescription: "the text read from '\(path)'")
  }

  /// Returns `path` without trailing slashes, keeping a lone `/`.
  private static func trimmingTrailingSlashes(_ path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") {
      trimmed.removeLast()
    }
    return String(trimmed)
  }

  /// Returns the absolute path that the symbolic link `path` resolves to, or `nil` when it
  /// dangles.
  private static func symbolicLinkTarget(of path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// Returns the paths of the matching files under `root`, in ascending UTF-8 byte order.
  private static func searchFiles(under root: String, fileSystem: some FileSystem) throws
    -> [String]
  {
    var found: [String] = []
    var pendingFolders = [root]
    while let folder = pendingFolders.popLast() {
      let entries: [DirectoryEntry]
      do {
        entries = try fileSystem.contentsOfDirectory(at: folder)
      } catch {
        throw DemoError(
          .unreadableCorpus,
          "failed to list folder '\(folder)'; check its permissions or pass another corpus path",
          path: folder, underlying: error)
      }
      for entry in entries where !entry.name.hasPrefix(".") {
        let child = folder == "/" ? "/" + entry.name : folder + "/" + entry.name
        switch entry.kind {
        case .directory:
          // A Waymark run directory contains a code snapshot of the same sources; reading it
          // would make the corpus grow with every run.
          if !fileSystem.exists(at: child + "/run.json") {
            pendingFolders.append(child)
          }
        case .regular:
          if let dot = entry.name.lastIndex(of: "."),
            searchedFileExtensions.contains(String(entry.name[entry.name.index(after: dot)...]))
          {
            found.append(child)
          }
        case .symbolicLink, .other:
          continue
        }
      }
    }
    return found.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  /// Reads up to `maxByteCount` bytes of a file and reports whether bytes were left unread.
  private static func readFile(at path: String, maxByteCount: Int, fileSystem: some FileSystem)
    throws -> (bytes: [UInt8], isTruncated: Bool)
  {
    do {
      let byteCount = Int(try fileSystem.status(at: path).byteCount)
      let readCount = min(byteCount, maxByteCount)
      let file = try fileSystem.openForReading(at: path)
      defer { try? fileSystem.close(file, path: path) }
      var bytes = [UInt8](repeating: 0, count: readCount)
      let count = try bytes.withUnsafeMutableBytes { buffer in
        try fileSystem.read(into: buffer, from: file, at: 0)
      }
      bytes.removeSubrange(count...)
      return (bytes, byteCount > maxByteCount)
    } catch {
      throw DemoError(
        .unreadableCorpus,
        "failed to read corpus file '\(path)'; check its permissions or pass another corpus path",
        path: path, underlying: error)
    }
  }
}
