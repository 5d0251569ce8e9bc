import Foundation
public import WaymarkCore

/// A checkpoint read back from disk.
public struct LoadedCheckpoint: Sendable {
  /// Path of the checkpoint directory.
  public var path: String
  /// The checkpoint's manifest.
  public var manifest: Manifest
  /// The tensors and non-tensor state.
  public var state: TrainingState

  /// Training step of the checkpoint.
  public var step: Int64 { manifest.step }
  /// Metrics recorded at save time.
  public var metrics: [String: Double] { manifest.metrics }
}

/// Reads checkpoints: the manifest alone, or every tensor with every checksum checked.
public struct CheckpointReader: Sendable {
  var fileSystem: any FileSystem
  var pool: BlockingThreadPool
  var profiler: Profiler

  /// Creates a reader that uses `fileSystem` on the threads of `pool`.
  public init(
    fileSystem: any FileSystem = PosixFileSystem(), pool: BlockingThreadPool = .shared,
    profiler: Profiler = .disabled
  ) {
    self.fileSystem = fileSystem
    self.pool = pool
    self.profiler = profiler
  }

  /// Reads and validates the manifest of the checkpoint directory at `path`.
  ///
  /// - Throws: ``CheckpointError`` with `.notFound`, `.invalidManifest` or
  ///   `.unsupportedVersion`, located at `path`.
  public func manifest(ofCheckpointAt path: String) async throws -> Manifest {
    let fileSystem = self.fileSystem
    return try await pool.run {
      try Self.readManifest(at: path, fileSystem: fileSystem)
    }
  }

  /// Reads the manifest synchronously; blocks, so call it from a pool thread.
  static func readManifest(at path: String, fileSystem: any FileSystem) throws -> Manifest {
    let directoryStatus: FileStatus
    do {
      directoryStatus = try fileSystem.status(at: path)
    } catch {
      throw CheckpointError(.notFound, "no checkpoint at '\(path)'; check the path", path: path)
    }
    guard directoryStatus.kind == .directory else {
      throw CheckpointError(
        .notFound,
        "'\(path)' is a \(directoryStatus.kind == .regular ? "file" : "link or special file"), not a checkpoint directory; pass a step-… directory (see 'waymark ls')",
        path: path)
    }
    let manifestPath = path + "/" + ManifestFile.fileName
    if !fileSystem.exists(at: manifestPath), let hint = storeHint(for: path, fileSystem: fileSystem)
    {
      throw CheckpointError(.notFound, hint, path: path)
    }
    let bytes: [UInt8]
    do {
      let status = try fileSystem.status(at: manifestPath)
      guard status.kind == .regular else {
        throw CheckpointError(
          .invalidManifest,
          "'\(manifestPath)' is a \(status.kind), not a regular file; a manifest is never a link",
          path: path)
      }
      bytes = try fileSystem.readWholeFile(
        at: manifestPath, maxByteCount: ManifestFile.maxByteCount)
    } catch let error as CheckpointError {
      throw error
    } catch {
      throw CheckpointError(
        .invalidManifest,
        "cannot read the manifest '\(manifestPath)'; the checkpoint is incomplete or damaged",
        path: path, underlying: error)
    }
    do {
      return try ManifestFile.decode(bytes)
    } catch let error as CheckpointError {
      throw error.located(at: path)
    }
  }

  /// Explains a directory that is a run or a store rather than a checkpoint; `nil` for any
  /// other directory, whose missing manifest is damage.
  static func storeHint(for path: String, fileSystem: any FileSystem) -> String? {
    if fileSystem.exists(at: path + "/run.json") {
      return
        "'\(path)' is a run directory, not a checkpoint; pass one of its checkpoints/step-… directories (see 'waymark ls \(path)')"
    }
    let entries = (try? fileSystem.contentsOfDirectory(at: path)) ?? []
    if entries.isEmpty {
      return
        "'\(path)' is an empty directory, not a checkpoint; pass a step-… directory (see 'waymark ls')"
    }
    if entries.contains(where: { CheckpointLayout.step(fromDirectoryName: $0.name) != nil }) {
      return
        "'\(path)' is a checkpoint store, not a checkpoint; pass one of its step-… directories (see 'waymark ls \(path)')"
    }
    return nil
  }

  /// Loads every tensor of the checkpoint at `path`, decoding chunks in parallel and
  /// checking every checksum.
  ///
  /// - Throws: ``CheckpointError`` naming the checkpoint, tensor and chunk of the first
  ///   problem found: `.checksumMismatch`, `.truncatedChunk`, `.invalidChunk`, `.outOfMemory`,
  ///   or a manifest error.
  public func load(checkpointAt path: String) async throws -> LoadedCheckpoint {
    try await profiler.measure("checkpoint.load", category: "checkpoint") {
      let manifest = try await self.manifest(ofCheckpointAt: path)
      let files = try await openDataFiles(of: manifest, checkpointPath: path)
      defer { closeDataFiles(files) }

      // A damaged manifest can declare tensors far larger than its files hold, so the chunk
      // ranges are checked before any tensor memory is allocated.
      let plan = LoadPlan(manifest: manifest)
      try Self.checkChunkRanges(of: plan, files: files, checkpointPath: path)
      let buffers = try LoadBuffers(for: plan, path: path)
      try await decodeAllChunks(of: plan, into: buffers, files: files, checkpointPath: path)

      var tensors: [String: Tensor] = [:]
      tensors.reserveCapacity(manifest.tensors.count)
      for (index, entry) in manifest.tensors.enumerated() {
        do {
          tensors[entry.name] = try Tensor(
            dtype: entry.dtype, shape: entry.shape,
            storage: buffers.storage(ofTensor: index, in: manifest))
        } catch let error as CheckpointError {
          throw error.attributed(toTensor: entry.name, path: path)
        }
      }
      return LoadedCheckpoint(
        path: path, manifest: manifest,
        state: TrainingState(tensors: tensors, extraState: manifest.extraState))
    }
  }

  /// Opens every data file the manifest names, rejecting links and non-regular files.
  func openDataFiles(of manifest: Manifest, checkpointPath: String) async throws -> [String:
    OpenDataFile]
  {
    let fileSystem = self.fileSystem
    let names = Set(manifest.writers.flatMap(\.files))
    return try await pool.run {
      var opened: [String: OpenDataFile] = [:]
      do {
        for name in names.sorted() {
          let file = try Self.openDataFile(named: name, in: checkpointPath, fileSystem: fileSystem)
          // The kernel reads the start of each file while the first chunks are decoded, and
          // the decoders ask for the bytes further ahead.
          fileSystem.prefetch(
            file.descriptor, offset: 0, byteCount: min(file.byteCount, ReadBatch.prefetchByteCount))
          opened[name] = file
        }
      } catch {
        for file in opened.values { try? fileSystem.close(file.descriptor, path: file.path) }
        throw error
      }
      return opened
    }
  }

  static func openDataFile(
    named name: String, in checkpointPath: String, fileSystem: any FileSystem
  ) throws
    -> OpenDataFile
  {
    let path = checkpointPath + "/" + name
    let status: FileStatus
    do {
      status = try fileSystem.status(at: path)
    } catch {
      throw CheckpointError(
        .truncatedChunk, "data file '\(path)' is missing; the checkpoint is incomplete",
        path: checkpointPath,
        underlying: error)
    }
    guard status.kind == .regular else {
      throw CheckpointError(
        .invalidManifest,
        "data file '\(path)' is a \(status.kind), not a regular file; checkpoints never contain links",
        path: checkpointPath)
    }
    let descriptor = try fileSystem.openForReading(at: path)
    return OpenDataFile(
      path: path, descriptor: descriptor, byteCount: status.byteCount, fileSystem: fileSystem)
  }

  private func closeDataFiles(_ files: [String: OpenDataFile]) {
    for file in files.values {
      try? fileSystem.close(file.descriptor, path: file.path)
    }
  }

  /// Decodes every chunk and pack into the tensors' buffers, at most one batch per pool
  /// thread at a time.
  private func decodeAllChunks(
    of plan: LoadPlan, into buffers: LoadBuffers, files: [String: OpenDataFile],
    checkpointPath: String
  ) async throws {
    let batches = ReadBatch.plan(
      for: plan.manifest, maxStoredByteCount: ReadBatch.maxStoredByteCount)
    let profiler = self.profiler
    let lookahead = Int(ReadBatch.prefetchByteCount / ReadBatch.maxStoredByteCount)
    try await withThrowingTaskGroup(of: Void.self) { group in
      var next = 0
      func submitNext() {
        guard next < batches.count else { return }
        let batch = batches[next]
        let upcoming = next + lookahead < batches.count ? batches[next + lookahead] : nil
        next += 1
        group.addTask { [pool] in
          try Task.checkCancellation()
          try await pool.run {
            // Reads from a cold cache overlap with decoding when the kernel is asked for the
            // batch about `prefetchByteCount` ahead of this one.
            if let upcoming { Self.prefetch(upcoming, of: plan.manifest, files: files) }
            try profiler.measure("checkpoint.decode", category: "checkpoint") {
              try Self.decode(
                batch, of: plan, into: buffers, files: files, checkpointPath: checkpointPath)
            }
          }
        }
      }
      for _ in 0..<pool.threadCount { submitNext() }
      while try await group.next() != nil {
        submitNext()
      }
    }
  }

  /// Throws `.truncatedChunk` for the first chunk or pack whose stored bytes lie beyond the
  /// end of its data file.
  private static func checkChunkRanges(
    of plan: LoadPlan, files: [String: OpenDataFile], checkpointPath: String
  ) throws {
    for piece in ReadBatch.pieces(of: plan.manifest) {
      let chunk = plan.manifest.entry(of: piece)
      guard let file = files[chunk.file] else { continue }
      do {
        try ChunkReading.checkRange(
          offset: chunk.offset, byteCount: chunk.storedByteCount, in: file)
      } catch let error as CheckpointError {
        throw plan.attribute(error, to: piece, path: checkpointPath)
      }
    }
  }

  /// Asks the kernel to start reading `batch` into its cache.
  private static func prefetch(
    _ batch: ReadBatch, of manifest: Manifest, files: [String: OpenDataFile]
  ) {
    let chunk = manifest.entry(of: batch.pieces[0])
    guard let file = files[chunk.file] else { return }
    file.fileSystem.prefetch(
      file.descriptor, offset: chunk.offset, byteCount: batch.storedByteCount)
  }

  /// Reads one batch and decodes each of its chunks and packs into the tensors' buffers.
  /// Blocks.
  private static func decode(
    _ batch: ReadBatch, of plan: LoadPlan, into buffers: LoadBuffers,
    files: [String: OpenDataFile], checkpointPath: String
  ) throws {
    let firstChunk = plan.manifest.entry(of: batch.pieces[0])
    guard let file = files[firstChunk.file] else {
      throw CheckpointError(
        .invalidManifest, "chunk names unknown data file '\(firstChunk.file)'",
        path: checkpointPath)
    }
    // Several small chunks share one read. `load` has already checked that every range lies
    // inside its file.
    let shared =
      batch.pieces.count > 1
      ? try ChunkReading.readRange(
        offset: firstChunk.offset, byteCount: batch.storedByteCount, from: file)
      : nil
    for piece in batch.pieces {
      let chunk = plan.manifest.entry(of: piece)
      do {
        let destination = buffers.destination(of: piece, in: plan.manifest)
        if let shared {
          let start = Int(chunk.offset - firstChunk.offset)
          try shared.withUnsafeBytes { bytes in
            let stored = UnsafeRawBufferPointer(
              rebasing: bytes[start..<(start + Int(chunk.storedByteCount))])
            try ChunkReading.checkAndDecode(chunk, stored: stored, file: file, into: destination)
          }
        } else {
          try ChunkReading.readAndDecode(chunk, from: file, into: destination)
        }
      } catch let error as CheckpointError {
        throw plan.attribute(error, to: piece, path: checkpointPath)
      }
    }
  }
}
