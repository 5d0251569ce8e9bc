import Foundation
public import WaymarkCore

/// Reads the small files of a run directory: `run.json`, `heartbeat.json`, `summary.json`,
/// `profile.json` and `events.jsonl`.
public enum RunFiles {
  /// Largest `run.json`, `summary.json` or `profile.json` read: 64 MiB.
  public static let maxSmallFileByteCount = 64 << 20

  /// Reads and decodes `run.json`.
  ///
  /// - Throws: ``TrackingError`` with code `.notFound` when the file is missing,
  ///   `.invalidRunFile` when it is not a valid run record or has a newer format version,
  ///   or `.io`.
  public static func readRecord(layout: RunLayout, fileSystem: any FileSystem = PosixFileSystem())
    throws -> RunRecord
  {
    let path = layout.runFile
    guard fileSystem.exists(at: path) else {
      throw TrackingError(
        .notFound,
        "no run.json in '\(layout.directory)'; pass the directory of a run, <runs>/<experiment>/<run-id>",
        path: path)
    }
    let record: RunRecord = try decode(path: path, fileSystem: fileSystem)
    guard record.formatVersion <= RunRecord.currentFormatVersion else {
      throw TrackingError(
        .invalidRunFile,
        "'\(path)' has format version \(record.formatVersion), newer than \(RunRecord.currentFormatVersion) that this library reads; update Waymark",
        path: path)
    }
    return record
  }

  /// Reads `heartbeat.json`; `nil` when it is missing or not valid.
  public static func readHeartbeat(
    layout: RunLayout, fileSystem: any FileSystem = PosixFileSystem()
  ) -> Heartbeat? {
    guard fileSystem.exists(at: layout.heartbeatFile) else { return nil }
    return try? decode(path: layout.heartbeatFile, fileSystem: fileSystem)
  }

  /// Reads `summary.json`; `nil` when it is missing or not valid.
  public static func readSummary(layout: RunLayout, fileSystem: any FileSystem = PosixFileSystem())
    -> MetricSummaryFile?
  {
    guard fileSystem.exists(at: layout.summaryFile) else { return nil }
    return try? decode(path: layout.summaryFile, fileSystem: fileSystem)
  }

  /// Reads `profile.json`; `nil` when it is missing or not valid.
  public static func readProfile(layout: RunLayout, fileSystem: any FileSystem = PosixFileSystem())
    -> ProfileReport?
  {
    guard fileSystem.exists(at: layout.profileFile) else { return nil }
    return try? decode(path: layout.profileFile, fileSystem: fileSystem)
  }

  /// Reads every complete, valid line of `events.jsonl`, in file order.
  ///
  /// A torn last line and invalid lines are skipped. A missing file reads as no events.
  ///
  /// - Throws: ``TrackingError`` with code `.io`.
  public static func readEvents(layout: RunLayout, fileSystem: any FileSystem = PosixFileSystem())
    throws -> [RunEvent]
  {
    guard fileSystem.exists(at: layout.eventsFile) else { return [] }
    let decoder = JSONCoding.decoder()
    var events: [RunEvent] = []
    _ = try JSONLinesReader(fileSystem: fileSystem).scan(path: layout.eventsFile) { line in
      if let event = try? decoder.decode(RunEvent.self, from: Data(line)) {
        events.append(event)
      }
    }
    return events
  }

  /// Lists the names of the subdirectories of `checkpoints/`, sorted; empty when it is missing.
  public static func checkpointNames(
    layout: RunLayout, fileSystem: any FileSystem = PosixFileSystem()
  ) -> [String] {
    guard let entries = try? fileSystem.contentsOfDirectory(at: layout.checkpointsDirectory) else {
      return []
    }
    return entries.filter { $0.kind == .directory && !$0.name.hasPrefix(".") }.map(\.name).sorted()
  }

  static func decode<T: Decodable>(path: String, fileSystem: any FileSystem) throws -> T {
    let bytes: [UInt8]
    do {
      bytes = try fileSystem.readWholeFile(at: path, maxByteCount: maxSmallFileByteCount)
    } catch {
      throw TrackingError.io("reading", path: path, error)
    }
    do {
      return try JSONCoding.decoder().decode(T.self, from: Data(bytes))
    } catch {
      throw TrackingError(
        .invalidRunFile, "'\(path)' is not a valid \(T.self) file: \(error)", path: path,
        underlying: error)
    }
  }
}
