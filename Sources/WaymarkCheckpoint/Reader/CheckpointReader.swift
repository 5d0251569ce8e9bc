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
  ///   problem found: `.checksumMismatch`, `.truncatedChunk`, `.invalidChunk`, or a manifest
  ///   error.
  public func load(checkpointAt path: String) async throws -> LoadedCheckpoint {
    try await profiler.measure("checkpoint.load", category: "checkpoint") {
      let manifest = try await self.manifest(ofCheckpointAt: path)
      let files = try await openDataFiles(of: manifest, checkpointPath: path)
      defer { closeDataFiles(files) }

      let buffers = manifest.tensors.map { TensorBuffer(byteCount: Int($0.byteCount)) }
      try await decodeAllChunks(of: manifest, into: buffers, files: files, checkpointPath: path)

      var tensors: [String: Tensor] = [:]
      for (entry, buffer) in zip(manifest.tensors, buffers) {
        do {
          tensors[entry.name] = try Tensor(dtype: entry.dtype, shape: entry.shape, storage: buffer)
        } catch var error as CheckpointError {
          error.path = path
          error.tensor = entry.name
          error.message = "tensor '\(entry.name)': " + error.message
          throw error
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
          opened[name] = try Self.openDataFile(
            named: name, in: checkpointPath, fileSystem: fileSystem)
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

  /// Decodes every chunk into its tensor's buffer, at most one job per pool thread at a time.
  private func decodeAllChunks(
    of manifest: Manifest, into buffers: [TensorBuffer], files: [String: OpenDataFile],
    checkpointPath: String
  ) async throws {
    var jobs: [(tensor: Int, chunk: Int)] = []
    for (tensorIndex, tensor) in manifest.tensors.enumerated() {
      for chunkIndex in tensor.chunks.indices {
        jobs.append((tensorIndex, chunkIndex))
      }
    }
    let profiler = self.profiler
    try await withThrowingTaskGroup(of: Void.self) { group in
      var next = 0
      func submitNext() {
        guard next < jobs.count else { return }
        let job = jobs[next]
        next += 1
        let tensor = manifest.tensors[job.tensor]
        let chunk = tensor.chunks[job.chunk]
        let buffer = buffers[job.tensor]
        group.addTask { [pool] in
          try Task.checkCancellation()
          try await pool.run {
            try profiler.measure("checkpoint.decode", category: "checkpoint") {
              guard let file = files[chunk.file] else {
                throw CheckpointError(
                  .invalidManifest, "chunk names unknown data file '\(chunk.file)'")
              }
              let destination = buffer.slice(
                offset: Int(chunk.rawOffset), count: Int(chunk.rawByteCount))
              do {
                try ChunkReading.readAndDecode(chunk, from: file, into: destination)
              } catch var error as CheckpointError {
                error.path = checkpointPath
                error.tensor = tensor.name
                error.chunk = job.chunk
                error.message = "tensor '\(tensor.name)' chunk \(job.chunk): " + error.message
                throw error
              }
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
}

/// A data file opened for reading, with the size it had when opened.
struct OpenDataFile: Sendable {
  var path: String
  var descriptor: FileDescriptor
  var byteCount: Int64
  var fileSystem: any FileSystem
}

/// Reads, checks and decodes single chunks. Blocks; runs on pool threads.
enum ChunkReading {
  /// Reads a chunk's stored bytes, checks the checksum and decodes into `destination`.
  static func readAndDecode(
    _ chunk: ChunkEntry, from file: OpenDataFile, into destination: UnsafeMutableRawBufferPointer
  )
    throws
  {
    let stored = try readStoredBytes(chunk, from: file)
    try checkChecksum(chunk, stored: stored, file: file)
    try stored.withUnsafeBytes { try ChunkCoding.decode($0, codec: chunk.codec, into: destination) }
  }

  /// Reads a chunk's stored bytes after checking that they lie inside the file.
  static func readStoredBytes(_ chunk: ChunkEntry, from file: OpenDataFile) throws -> [UInt8] {
    let end = chunk.offset + chunk.storedByteCount
    guard end <= file.byteCount else {
      throw CheckpointError(
        .truncatedChunk,
        "stored bytes \(chunk.offset)..<\(end) lie beyond the end of '\(file.path)' (\(file.byteCount) bytes); the data file is truncated"
      )
    }
    guard chunk.storedByteCount <= ChunkCoding.maxRawByteCount * 2 else {
      throw CheckpointError(
        .invalidChunk,
        "stored length \(chunk.storedByteCount) exceeds twice the largest chunk Waymark writes")
    }
    let count = Int(chunk.storedByteCount)
    var readCount = 0
    let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      readCount = try file.fileSystem.read(
        into: UnsafeMutableRawBufferPointer(buffer), from: file.descriptor, at: chunk.offset)
      initialized = readCount
    }
    guard readCount == count else {
      throw CheckpointError(
        .truncatedChunk,
        "read \(readCount) of \(count) stored bytes at offset \(chunk.offset) of '\(file.path)'")
    }
    return bytes
  }

  static func checkChecksum(_ chunk: ChunkEntry, stored: [UInt8], file: OpenDataFile) throws {
    let actual = XXH3.hexString(stored.withUnsafeBytes(XXH3.hash))
    guard actual == chunk.checksum.lowercased() else {
      throw CheckpointError(
        .checksumMismatch,
        "checksum mismatch in '\(file.path)' at offset \(chunk.offset): manifest says \(chunk.checksum), data hashes to \(actual); the data is damaged, so restore this checkpoint from a copy or resume from an earlier one"
      )
    }
  }
}
