public import WaymarkCore

/// A committed checkpoint found in a store directory.
public struct CheckpointEntry: Sendable, Hashable, Codable {
  /// Training step, from the directory name.
  public var step: Int64
  /// Path of the checkpoint directory.
  public var path: String
}

/// A checkpoint that resume passed over, and why.
public struct SkippedCheckpoint: Sendable, Equatable {
  public var entry: CheckpointEntry
  public var reason: String
}

/// Read access to a directory of checkpoints.
///
/// Readers see only committed checkpoints (`step-…` directories); temporary, trash and
/// quarantined entries start with a dot and are ignored. Reading takes no lock, so it is safe
/// while a writer works.
public struct CheckpointStore: Sendable {
  /// The store directory.
  public let directory: String
  let fileSystem: any FileSystem
  let pool: BlockingThreadPool
  let profiler: Profiler

  /// Creates a reader for the store at `directory`.
  public init(
    directory: String, fileSystem: any FileSystem = PosixFileSystem(),
    pool: BlockingThreadPool = .shared,
    profiler: Profiler = .disabled
  ) {
    self.directory = directory
    self.fileSystem = fileSystem
    self.pool = pool
    self.profiler = profiler
  }

  private var reader: CheckpointReader {
    CheckpointReader(fileSystem: fileSystem, pool: pool, profiler: profiler)
  }

  /// Returns the committed checkpoints, oldest step first.
  ///
  /// - Complexity: One directory listing; no checkpoint is opened.
  public func committedCheckpoints() async throws -> [CheckpointEntry] {
    let fileSystem = self.fileSystem
    let directory = self.directory
    return try await pool.run { try Self.listCommitted(in: directory, fileSystem: fileSystem) }
  }

  static func listCommitted(in directory: String, fileSystem: any FileSystem) throws
    -> [CheckpointEntry]
  {
    let entries: [DirectoryEntry]
    do {
      entries = try fileSystem.contentsOfDirectory(at: directory)
    } catch {
      throw CheckpointError(
        .notFound, "cannot list checkpoint store '\(directory)'; check the path", path: directory,
        underlying: error)
    }
    return entries.compactMap { entry in
      guard entry.kind == .directory,
        let step = CheckpointLayout.step(fromDirectoryName: entry.name)
      else {
        return nil
      }
      return CheckpointEntry(step: step, path: directory + "/" + entry.name)
    }
    .sorted { $0.step < $1.step }
  }

  /// Returns the checkpoint for `step`, or throws `.notFound`.
  public func entry(step: Int64) async throws -> CheckpointEntry {
    guard let entry = try await committedCheckpoints().first(where: { $0.step == step }) else {
      throw CheckpointError(
        .notFound,
        "no committed checkpoint for step \(step) in '\(directory)'; run `waymark ls` to see the steps",
        path: directory)
    }
    return entry
  }

  /// Loads the checkpoint for `step` with every checksum checked.
  public func load(step: Int64) async throws -> LoadedCheckpoint {
    try await reader.load(checkpointAt: entry(step: step).path)
  }

  /// Returns the manifest of a committed checkpoint.
  public func manifest(of entry: CheckpointEntry) async throws -> Manifest {
    try await reader.manifest(ofCheckpointAt: entry.path)
  }

  /// Finds the newest checkpoint whose manifest is valid, newest first, passing over damaged
  /// ones.
  ///
  /// - Parameter checkingData: Also decode every chunk and check every checksum; slower, but
  ///   it catches damage in the data files too.
  /// - Returns: The entry and its manifest, or `nil` when none is valid, plus every
  ///   checkpoint passed over with the reason.
  public func newestValid(checkingData: Bool = false) async throws
    -> (found: (entry: CheckpointEntry, manifest: Manifest)?, skipped: [SkippedCheckpoint])
  {
    var skipped: [SkippedCheckpoint] = []
    let verifier = CheckpointVerifier(fileSystem: fileSystem, pool: pool)
    for entry in try await committedCheckpoints().reversed() {
      do {
        let manifest = try await reader.manifest(ofCheckpointAt: entry.path)
        if checkingData {
          let result = await verifier.verifyCheckpoint(at: entry.path)
          if let problem = result.problems.first {
            skipped.append(SkippedCheckpoint(entry: entry, reason: problem.message))
            continue
          }
        }
        return ((entry, manifest), skipped)
      } catch {
        skipped.append(SkippedCheckpoint(entry: entry, reason: "\(error)"))
      }
    }
    return (nil, skipped)
  }

  /// Loads the newest checkpoint that loads cleanly, falling back past damaged ones.
  ///
  /// - Returns: The checkpoint, or `nil` when the store has none that loads, plus every
  ///   checkpoint passed over with the reason.
  public func loadNewestValid() async throws -> (
    checkpoint: LoadedCheckpoint?, skipped: [SkippedCheckpoint]
  ) {
    var skipped: [SkippedCheckpoint] = []
    for entry in try await committedCheckpoints().reversed() {
      do {
        return (try await reader.load(checkpointAt: entry.path), skipped)
      } catch {
        skipped.append(SkippedCheckpoint(entry: entry, reason: "\(error)"))
      }
    }
    return (nil, skipped)
  }
}
