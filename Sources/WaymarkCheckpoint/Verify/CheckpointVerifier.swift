public import WaymarkCore

/// Checks checkpoints end to end: manifest framing and rules, every data file, every chunk's
/// bounds, checksum and decoding. Unlike loading, it reports every problem, not the first.
public struct CheckpointVerifier: Sendable {
  var fileSystem: any FileSystem
  var pool: BlockingThreadPool

  /// Creates a verifier that uses `fileSystem` on the threads of `pool`.
  public init(fileSystem: any FileSystem = PosixFileSystem(), pool: BlockingThreadPool = .shared) {
    self.fileSystem = fileSystem
    self.pool = pool
  }

  /// Verifies `path`: a checkpoint directory, a store of checkpoints, or a run directory
  /// whose checkpoints are under `checkpoints/`.
  ///
  /// - Throws: ``CheckpointError`` with `.notFound` when `path` is none of those.
  public func verify(
    path: String, progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
  ) async throws -> VerificationReport {
    let store = try await resolveStore(path)
    guard let storePath = store else {
      let checkpoint = await verifyCheckpoint(at: path)
      progress?(1, 1)
      return VerificationReport(path: path, checkpoints: [checkpoint], problems: [])
    }
    let listing = CheckpointStore(directory: storePath, fileSystem: fileSystem, pool: pool)
    let entries = try await listing.committedCheckpoints()
    var results: [CheckpointVerification] = []
    for (index, entry) in entries.enumerated() {
      results.append(await verifyCheckpoint(at: entry.path))
      progress?(index + 1, entries.count)
    }
    return VerificationReport(path: path, checkpoints: results, problems: [])
  }

  /// Returns the store directory to scan, or `nil` when `path` is a single checkpoint.
  private func resolveStore(_ path: String) async throws -> String? {
    let fileSystem = self.fileSystem
    return try await pool.run {
      let status = try? fileSystem.status(at: path)
      if status?.kind == .symbolicLink {
        throw CheckpointError(
          .notFound,
          "'\(path)' is a symbolic link; Waymark does not follow links into checkpoints, so pass the directory it points to",
          path: path)
      }
      guard status?.kind == .directory else {
        throw CheckpointError(
          .notFound,
          "'\(path)' is not a checkpoint, a checkpoint store or a run directory; check the path",
          path: path)
      }
      if fileSystem.exists(at: path + "/" + ManifestFile.fileName) { return nil }
      let runCheckpoints = path + "/checkpoints"
      if let status = try? fileSystem.status(at: runCheckpoints), status.kind == .directory {
        return runCheckpoints
      }
      return path
    }
  }

  /// Verifies one checkpoint directory and collects every problem.
  ///
  /// Chunks and packs are checked in parallel, one per pool thread, in file order, and the
  /// kernel is asked to read ahead of them.
  public func verifyCheckpoint(at path: String) async -> CheckpointVerification {
    let fileSystem = self.fileSystem
    let prepared = await Self.onPool(pool) { Self.prepare(at: path, fileSystem: fileSystem) }
    defer {
      for file in prepared.files.values { try? fileSystem.close(file.descriptor, path: file.path) }
    }
    var report = prepared.report
    guard let plan = prepared.plan else { return report }

    let pieces = ReadBatch.pieces(of: plan.manifest).sorted { left, right in
      let (first, second) = (plan.manifest.entry(of: left), plan.manifest.entry(of: right))
      return (first.file, first.offset) < (second.file, second.offset)
    }
    report.packCount = plan.manifest.packs.count
    report.chunkCount = pieces.count - report.packCount
    let problems = await withTaskGroup(of: (Int, VerificationProblem?).self) { group in
      var next = 0
      func submitNext() {
        guard next < pieces.count else { return }
        let index = next
        let upcoming = index + Self.prefetchDistance
        next += 1
        group.addTask { [pool] in
          await Self.onPool(pool) {
            if upcoming < pieces.count {
              Self.prefetch(pieces[upcoming], of: plan.manifest, files: prepared.files)
            }
            guard let file = prepared.files[plan.manifest.entry(of: pieces[index]).file] else {
              return (index, nil)
            }
            return (index, Self.verifyPiece(pieces[index], of: plan, file: file, checkpoint: path))
          }
        }
      }
      for _ in 0..<pool.threadCount { submitNext() }
      var found: [(Int, VerificationProblem)] = []
      while let (index, problem) = await group.next() {
        if let problem { found.append((index, problem)) }
        submitNext()
      }
      return found.sorted { $0.0 < $1.0 }.map(\.1)
    }
    report.problems += problems
    return report
  }

  /// How many chunks ahead of the checkers the kernel is asked to read: 64, about 256 MiB of
  /// chunks of the default size.
  private static let prefetchDistance = 64

  /// The checks ``verifyCheckpoint(at:)`` makes before the chunks: the manifest, links and data
  /// files. `plan` is `nil` when the manifest cannot be read.
  private struct Preparation: Sendable {
    var report: CheckpointVerification
    var plan: LoadPlan?
    var files: [String: OpenDataFile] = [:]
  }

  /// Reads the manifest and opens the data files, recording every problem. Blocks.
  private static func prepare(at path: String, fileSystem: any FileSystem) -> Preparation {
    var prepared = Preparation(
      report: CheckpointVerification(
        path: path, step: nil, tensorCount: 0, chunkCount: 0, rawByteCount: 0, problems: []))
    let manifest: Manifest
    do {
      manifest = try CheckpointReader.readManifest(at: path, fileSystem: fileSystem)
    } catch let error as CheckpointError {
      prepared.report.problems.append(VerificationProblem(error, checkpoint: path))
      return prepared
    } catch {
      prepared.report.problems.append(
        VerificationProblem(CheckpointError(.io, "\(error)"), checkpoint: path))
      return prepared
    }
    prepared.plan = LoadPlan(manifest: manifest)
    prepared.report.step = manifest.step
    prepared.report.tensorCount = manifest.tensors.count
    prepared.report.rawByteCount = manifest.rawByteCount
    prepared.report.problems += linkEntries(in: path, fileSystem: fileSystem)

    for name in Set(manifest.writers.flatMap(\.files)).sorted() {
      do {
        prepared.files[name] = try CheckpointReader.openDataFile(
          named: name, in: path, fileSystem: fileSystem)
      } catch let error as CheckpointError {
        prepared.report.problems.append(VerificationProblem(error, checkpoint: path))
      } catch {
        prepared.report.problems.append(
          VerificationProblem(CheckpointError(.io, "\(error)"), checkpoint: path))
      }
    }
    return prepared
  }

  /// Asks the kernel to start reading a piece's stored bytes into its cache.
  private static func prefetch(
    _ piece: ReadBatch.Piece, of manifest: Manifest, files: [String: OpenDataFile]
  ) {
    let chunk = manifest.entry(of: piece)
    guard let file = files[chunk.file] else { return }
    file.fileSystem.prefetch(
      file.descriptor, offset: chunk.offset, byteCount: chunk.storedByteCount)
  }

  /// Reads, checks and decodes one chunk or pack, and returns the problem, if any. Blocks.
  private static func verifyPiece(
    _ piece: ReadBatch.Piece, of plan: LoadPlan, file: OpenDataFile, checkpoint: String
  ) -> VerificationProblem? {
    let chunk = plan.manifest.entry(of: piece)
    do {
      // The decoded bytes are thrown away, so a borrowed workspace's scratch receives them.
      try ZstdWorkspace.withBorrowed { workspace in
        try workspace.withScratch(byteCount: Int(chunk.rawByteCount)) { destination in
          try ChunkReading.readAndDecode(chunk, from: file, into: destination)
          try checkBoolBytes(of: piece, in: plan, decoded: UnsafeRawBufferPointer(destination))
        }
      }
      return nil
    } catch let error as CheckpointError {
      return VerificationProblem(
        plan.attribute(error, to: piece, path: checkpoint), checkpoint: checkpoint)
    } catch {
      let wrapped = plan.attribute(CheckpointError(.io, "\(error)"), to: piece, path: checkpoint)
      return VerificationProblem(wrapped, checkpoint: checkpoint)
    }
  }

  /// Throws for a byte other than 0 or 1 in the decoded bytes of a `bool` tensor, which
  /// loading would reject.
  private static func checkBoolBytes(
    of piece: ReadBatch.Piece, in plan: LoadPlan, decoded: UnsafeRawBufferPointer
  ) throws {
    let tensors = plan.manifest.tensors
    switch piece {
    case .chunk(let tensor, let index):
      guard tensors[tensor].dtype == .bool else { return }
      try Tensor.checkBoolBytes(decoded, offset: Int(tensors[tensor].chunks[index].rawOffset))
    case .pack(let pack):
      for member in plan.packMembers[pack] where tensors[member].dtype == .bool {
        let start = Int(tensors[member].pack!.rawOffset)
        let bytes = UnsafeRawBufferPointer(
          rebasing: decoded[start..<(start + Int(tensors[member].byteCount))])
        do {
          try Tensor.checkBoolBytes(bytes)
        } catch let error as CheckpointError {
          throw error.attributed(toTensor: tensors[member].name)
        }
      }
    }
  }

  /// Runs blocking `work` on `pool`: `BlockingThreadPool.run` for work that cannot throw.
  private static func onPool<T: Sendable>(
    _ pool: BlockingThreadPool, _ work: @escaping @Sendable () -> T
  ) async -> T {
    await withCheckedContinuation { continuation in
      pool.submit { continuation.resume(returning: work()) }
    }
  }

  /// Reports symbolic links inside the checkpoint, which a reader must never follow.
  private static func linkEntries(in path: String, fileSystem: any FileSystem)
    -> [VerificationProblem]
  {
    guard let entries = try? fileSystem.contentsOfDirectory(at: path) else { return [] }
    return entries.compactMap { entry in
      if entry.kind == .symbolicLink {
        let error = CheckpointError(
          .invalidManifest,
          "'\(path)/\(entry.name)' is a symbolic link; checkpoints never contain links, so remove it"
        )
        return VerificationProblem(error, checkpoint: path)
      }
      return nil
    }
  }
}
