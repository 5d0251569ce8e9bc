import Synchronization
import WaymarkCore

/// The facts about one committed checkpoint that retention, best lookup and `waymark ls`
/// use: its step and path, and from its manifest the save time, metrics and sizes.
public struct CheckpointSummary: Sendable, Equatable {
  /// Training step, from the directory name.
  public var step: Int64
  /// Path of the checkpoint directory.
  public var path: String
  /// Seconds since 1970-01-01T00:00:00Z when the state was captured; `nil` when the
  /// manifest is unreadable.
  public var wallTime: Double?
  /// Metrics recorded at save time; empty when the manifest is unreadable.
  public var metrics: [String: Double]
  /// Raw bytes of all tensors; `nil` when the manifest is unreadable.
  public var rawByteCount: Int64?
  /// Bytes of chunk data plus the manifest file; `nil` when the manifest is unreadable.
  public var storedByteCount: Int64?
  /// The reason the manifest could not be read, or `nil` when it was read and validated.
  public var problem: String?

  /// Creates a summary; tests and planners build them by hand.
  public init(
    step: Int64, path: String = "", wallTime: Double? = nil, metrics: [String: Double] = [:],
    rawByteCount: Int64? = nil, storedByteCount: Int64? = nil, problem: String? = nil
  ) {
    self.step = step
    self.path = path
    self.wallTime = wallTime
    self.metrics = metrics
    self.rawByteCount = rawByteCount
    self.storedByteCount = storedByteCount
    self.problem = problem
  }

  /// Whether the manifest was read and validated.
  public var hasReadableManifest: Bool { problem == nil }

  /// Summarizes the checkpoint at `entry`, reading its manifest. Blocks, so call it from a
  /// pool thread. A damaged manifest gives a summary with a `problem`, not an error.
  static func read(_ entry: CheckpointEntry, fileSystem: any FileSystem) -> CheckpointSummary {
    var summary = CheckpointSummary(step: entry.step, path: entry.path)
    do {
      let manifest = try CheckpointReader.readManifest(at: entry.path, fileSystem: fileSystem)
      let manifestStatus = try fileSystem.status(at: entry.path + "/" + ManifestFile.fileName)
      summary.wallTime = manifest.wallTime
      summary.metrics = manifest.metrics
      summary.rawByteCount = manifest.rawByteCount
      summary.storedByteCount = manifest.storedByteCount + manifestStatus.byteCount
    } catch {
      summary.problem = "\(error)"
    }
    return summary
  }
}

/// Summaries of committed checkpoints that a writer has already read, by path.
///
/// A manager with a retention rule that ranks by a metric summarized every kept checkpoint
/// after each commit. With 100 kept checkpoints of 10,000 tensors that is 100 manifests of
/// about 1 MB each, parsed again every time. A committed checkpoint never changes while the
/// writer holds the store's lock, so its summary can be reused.
final class CheckpointSummaryCache: Sendable {
  private let summaries = Mutex<[String: CheckpointSummary]>([:])

  /// Returns the summaries of `entries`, reading only the manifests of checkpoints not seen
  /// before, and drops checkpoints no longer listed. Blocks.
  func summaries(of entries: [CheckpointEntry], fileSystem: any FileSystem)
    -> [CheckpointSummary]
  {
    let known = summaries.withLock { $0 }
    let result = entries.map { entry in
      known[entry.path] ?? CheckpointSummary.read(entry, fileSystem: fileSystem)
    }
    // A damaged manifest is read again next time, in case it was a transient read failure.
    let readable = result.filter(\.hasReadableManifest)
    summaries.withLock { cache in
      cache = Dictionary(readable.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
    }
    return result
  }
}

extension CheckpointStore {
  /// Summarizes every committed checkpoint, oldest step first.
  ///
  /// Only manifests are read, not data files; a checkpoint whose manifest is damaged is
  /// listed with a `problem` instead of failing the call.
  ///
  /// - Complexity: One directory listing and one manifest read per checkpoint.
  /// - Throws: ``CheckpointError`` with `.notFound` when the store cannot be listed.
  public func summaries() async throws -> [CheckpointSummary] {
    let entries = try await committedCheckpoints()
    let fileSystem = self.fileSystem
    return try await pool.run {
      entries.map { CheckpointSummary.read($0, fileSystem: fileSystem) }
    }
  }
}
