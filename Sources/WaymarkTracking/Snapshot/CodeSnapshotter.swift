import Synchronization
import WaymarkCore

/// Copies a run's source code into `<run>/code/` under a byte cap.
///
/// The copy blocks, so the run calls it on a ``BlockingThreadPool`` in the background. Files
/// are copied in the order git or the directory walk lists them. A file that does not fit
/// in the bytes left under the cap is skipped and counted, and smaller files after it are
/// still copied. With git, the patch of uncommitted changes is written first, because it is
/// what a commit hash cannot restore. The copied files are not fsynced: the snapshot helps
/// a person reproduce the run and is not needed to resume it.
struct CodeSnapshotter {
  /// Set by the run when it finishes before the copy does; checked before every file.
  final class Cancellation: Sendable {
    private let flag = Atomic(false)

    /// Creates a flag that is not set.
    init() {}

    /// Asks the copy to stop.
    func cancel() { flag.store(true, ordering: .relaxed) }

    /// Whether the copy should stop.
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
  }

  /// Name of the patch file inside `code/`.
  static let patchFileName = "uncommitted.patch"

  var options: CodeSnapshotOptions
  var destination: String
  var fileSystem: any FileSystem
  var cancellation: Cancellation

  /// Copies the files and returns what was copied.
  func run() -> CodeSnapshotReport {
    switch options.source {
    case .disabled:
      return CodeSnapshotReport(
        outcome: .complete, source: options.sourceName, maxByteCount: options.maxByteCount)
    case .git(let directory):
      return copyGitFiles(from: directory)
    case .directories(let directories):
      return copyDirectories(directories)
    }
  }

  private func copyGitFiles(from directory: String) -> CodeSnapshotReport {
    var report = CodeSnapshotReport(
      outcome: .inProgress, source: "git", maxByteCount: options.maxByteCount)
    let listing = ProcessRunner.run(
      "git", ["-C", directory, "ls-files", "-z"], maxOutputByteCount: 256 << 20, timeoutSeconds: 60)
    guard let listing, listing.succeeded else {
      report.outcome = .failed
      report.failure =
        listing == nil
        ? "git could not be started; install git or snapshot directories instead"
        : "git ls-files \(listing.map(EnvironmentProbe.describeFailure) ?? "failed") in '\(directory)', so no code was copied; start the run inside the project's git work tree, or set CodeSnapshotOptions.source to .directories"
      return report
    }
    do {
      try fileSystem.createDirectoryTree(at: destination)
    } catch {
      return failed(report, "could not create '\(destination)': \(error)")
    }

    let diff = ProcessRunner.run(
      "git", ["-C", directory, "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff"],
      maxOutputByteCount: Int(clamping: options.maxByteCount), timeoutSeconds: 60)
    if let diff, diff.succeeded {
      report.patchByteCount = Int64(diff.totalOutputByteCount)
      report.isPatchTruncated = diff.totalOutputByteCount > diff.standardOutput.count
      do {
        try writeFile(diff.standardOutput, to: "\(destination)/\(Self.patchFileName)")
        report.copiedByteCount += Int64(diff.standardOutput.count)
      } catch {
        return failed(report, "could not write the patch: \(error)")
      }
    }

    let paths = listing.standardOutput.split(separator: 0).map {
      String(decoding: $0, as: UTF8.self)
    }
    for path in paths {
      if cancellation.isCancelled { return cancelled(report) }
      guard isSafeRelativePath(path) else {
        report.unreadableFileCount += 1
        continue
      }
      copyFile(from: "\(directory)/\(path)", to: "\(destination)/\(path)", report: &report)
    }
    return finished(report)
  }

  private func copyDirectories(_ directories: [String]) -> CodeSnapshotReport {
    var report = CodeSnapshotReport(
      outcome: .inProgress, source: "directories", maxByteCount: options.maxByteCount)
    var usedNames: Set<String> = []
    for directory in directories {
      var name = String(directory.split(separator: "/").last ?? "root")
      var counter = 2
      while usedNames.contains(name) {
        name = "\(directory.split(separator: "/").last ?? "root")-\(counter)"
        counter += 1
      }
      usedNames.insert(name)
      guard (try? fileSystem.status(at: directory).kind) == .directory else {
        return failed(report, "'\(directory)' is not a directory; check the snapshot options")
      }
      if !copyTree(from: directory, to: "\(destination)/\(name)", report: &report) {
        return cancelled(report)
      }
    }
    return finished(report)
  }

  /// Copies a directory tree; returns `false` when cancelled.
  private func copyTree(from source: String, to target: String, report: inout CodeSnapshotReport)
    -> Bool
  {
    guard let entries = try? fileSystem.contentsOfDirectory(at: source) else {
      report.unreadableFileCount += 1
      return true
    }
    for entry in entries where !options.excludedNames.contains(entry.name) {
      if cancellation.isCancelled { return false }
      switch entry.kind {
      case .directory:
        if !copyTree(
          from: "\(source)/\(entry.name)", to: "\(target)/\(entry.name)", report: &report)
        {
          return false
        }
      case .regular:
        copyFile(from: "\(source)/\(entry.name)", to: "\(target)/\(entry.name)", report: &report)
      case .symbolicLink, .other:
        report.unreadableFileCount += 1
      }
    }
    return true
  }

  private func copyFile(from source: String, to target: String, report: inout CodeSnapshotReport) {
    guard let status = try? fileSystem.status(at: source), status.kind == .regular else {
      report.unreadableFileCount += 1
      return
    }
    guard report.copiedByteCount + status.byteCount <= options.maxByteCount else {
      report.skippedFileCount += 1
      report.skippedByteCount += status.byteCount
      return
    }
    do {
      let bytes = try fileSystem.readWholeFile(
        at: source, maxByteCount: Int(clamping: status.byteCount))
      try fileSystem.createDirectoryTree(at: AtomicFile.parentDirectory(of: target))
      try writeFile(bytes, to: target)
      report.copiedFileCount += 1
      report.copiedByteCount += Int64(bytes.count)
    } catch {
      report.unreadableFileCount += 1
    }
  }

  private func writeFile(_ bytes: [UInt8], to path: String) throws {
    let file = try fileSystem.createFile(at: path)
    defer { try? fileSystem.close(file, path: path) }
    try bytes.withUnsafeBytes { buffer in
      try fileSystem.write(buffer, to: file, at: 0)
    }
  }

  /// Returns whether a path from `git ls-files` stays inside the checkout.
  private func isSafeRelativePath(_ path: String) -> Bool {
    !path.isEmpty && !path.hasPrefix("/")
      && !path.split(separator: "/", omittingEmptySubsequences: false).contains {
        $0 == ".." || $0.isEmpty
      }
  }

  private func finished(_ report: CodeSnapshotReport) -> CodeSnapshotReport {
    var report = report
    report.outcome = report.skippedFileCount > 0 || report.isPatchTruncated ? .truncated : .complete
    return report
  }

  private func cancelled(_ report: CodeSnapshotReport) -> CodeSnapshotReport {
    var report = report
    report.outcome = .cancelled
    return report
  }

  private func failed(_ report: CodeSnapshotReport, _ message: String) -> CodeSnapshotReport {
    var report = report
    report.outcome = .failed
    report.failure = message
    return report
  }
}
