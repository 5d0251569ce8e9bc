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
      guard let status = try? fileSystem.status(at: path), status.kind == .directory else {
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
  public func verifyCheckpoint(at path: String) async -> CheckpointVerification {
    let fileSystem = self.fileSystem
    return await withCheckedContinuation { continuation in
      pool.submit {
        continuation.resume(returning: Self.verifySynchronously(at: path, fileSystem: fileSystem))
      }
    }
  }

  private static func verifySynchronously(at path: String, fileSystem: any FileSystem)
    -> CheckpointVerification
  {
    var report = CheckpointVerification(
      path: path, step: nil, tensorCount: 0, chunkCount: 0, rawByteCount: 0, problems: [])
    let manifest: Manifest
    do {
      manifest = try CheckpointReader.readManifest(at: path, fileSystem: fileSystem)
    } catch let error as CheckpointError {
      report.problems.append(VerificationProblem(error, checkpoint: path))
      return report
    } catch {
      report.problems.append(
        VerificationProblem(CheckpointError(.io, "\(error)"), checkpoint: path))
      return report
    }
    report.step = manifest.step
    report.tensorCount = manifest.tensors.count
    report.rawByteCount = manifest.rawByteCount
    report.problems += linkEntries(in: path, fileSystem: fileSystem)

    var files: [String: OpenDataFile] = [:]
    defer {
      for file in files.values { try? fileSystem.close(file.descriptor, path: file.path) }
    }
    for name in Set(manifest.writers.flatMap(\.files)).sorted() {
      do {
        files[name] = try CheckpointReader.openDataFile(
          named: name, in: path, fileSystem: fileSystem)
      } catch let error as CheckpointError {
        report.problems.append(VerificationProblem(error, checkpoint: path))
      } catch {
        report.problems.append(
          VerificationProblem(CheckpointError(.io, "\(error)"), checkpoint: path))
      }
    }

    let plan = LoadPlan(manifest: manifest)
    for piece in ReadBatch.pieces(of: manifest) {
      report.chunkCount += 1
      guard let file = files[manifest.entry(of: piece).file] else { continue }
      if let problem = verifyPiece(piece, of: plan, file: file, checkpoint: path) {
        report.problems.append(problem)
      }
    }
    return report
  }

  /// Reads, checks and decodes one chunk or pack; returns the problem, if any.
  private static func verifyPiece(
    _ piece: ReadBatch.Piece, of plan: LoadPlan, file: OpenDataFile, checkpoint: String
  ) -> VerificationProblem? {
    let chunk = plan.manifest.entry(of: piece)
    let destination = UnsafeMutableRawBufferPointer.allocate(
      byteCount: Int(chunk.rawByteCount), alignment: 64)
    defer { destination.deallocate() }
    do {
      try ChunkReading.readAndDecode(chunk, from: file, into: destination)
      return nil
    } catch let error as CheckpointError {
      return VerificationProblem(
        plan.attribute(error, to: piece, path: checkpoint), checkpoint: checkpoint)
    } catch {
      let wrapped = plan.attribute(CheckpointError(.io, "\(error)"), to: piece, path: checkpoint)
      return VerificationProblem(wrapped, checkpoint: checkpoint)
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
