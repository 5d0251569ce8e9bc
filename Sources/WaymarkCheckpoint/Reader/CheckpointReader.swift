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
      try Self.checkChunkRanges(of: manifest, files: files, checkpointPath: path)
      let buffers = try manifest.tensors.map { entry in
        do {
          return try TensorBuffer(byteCount: Int(entry.byteCount))
        } catch let error as CheckpointError {
          throw error.attributed(toTensor: entry.name, path: path)
        }
      }
      try await decodeAllChunks(of: manifest, into: buffers, files: files, checkpointPath: path)

      var tensors: [String: Tensor] = [:]
      for (entry, buffer) in zip(manifest.tensors, buffers) {
        do {
          tensors[entry.name] = try Tensor(dtype: entry.dtype, shape: entry.shape, storage: buffer)
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

  /// Decodes every chunk into its tensor's buffer, at most one batch per pool thread at a time.
  private func decodeAllChunks(
    of manifest: Manifest, into buffers: [TensorBuffer], files: [String: OpenDataFile],
    checkpointPath: String
  ) async throws {
    let batches = ReadBatch.plan(for: manifest, maxStoredByteCount: ReadBatch.maxStoredByteCount)
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
            if let upcoming { Self.prefetch(upcoming, of: manifest, files: files) }
            try profiler.measure("checkpoint.decode", category: "checkpoint") {
              try Self.decode(
                batch, of: manifest, into: buffers, files: files, checkpointPath: checkpointPath)
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

  /// Throws `.truncatedChunk` for the first chunk whose stored bytes lie beyond the end of its
  /// data file.
  private static func checkChunkRanges(
    of manifest: Manifest, files: [String: OpenDataFile], checkpointPath: String
  ) throws {
    for tensor in manifest.tensors {
      for (index, chunk) in tensor.chunks.enumerated() {
        guard let file = files[chunk.file] else { continue }
        do {
          try ChunkReading.checkRange(
            offset: chunk.offset, byteCount: chunk.storedByteCount, in: file)
        } catch let error as CheckpointError {
          throw error.attributed(toTensor: tensor.name, chunk: index, path: checkpointPath)
        }
      }
    }
  }

  /// Asks the kernel to start reading `batch` into its cache.
  private static func prefetch(
    _ batch: ReadBatch, of manifest: Manifest, files: [String: OpenDataFile]
  ) {
    let first = batch.chunks[0]
    let chunk = manifest.tensors[first.tensor].chunks[first.chunk]
    guard let file = files[chunk.file] else { return }
    file.fileSystem.prefetch(
      file.descriptor, offset: chunk.offset, byteCount: batch.storedByteCount)
  }

  /// Reads one batch and decodes each of its chunks into its tensor's buffer. Blocks.
  private static func decode(
    _ batch: ReadBatch, of manifest: Manifest, into buffers: [TensorBuffer],
    files: [String: OpenDataFile], checkpointPath: String
  ) throws {
    let first = batch.chunks[0]
    let firstChunk = manifest.tensors[first.tensor].chunks[first.chunk]
    guard let file = files[firstChunk.file] else {
      throw CheckpointError(
        .invalidManifest, "chunk names unknown data file '\(firstChunk.file)'",
        path: checkpointPath)
    }
    // Several small chunks share one read. `load` has already checked that every range lies
    // inside its file.
    let shared =
      batch.chunks.count > 1
      ? try ChunkReading.readRange(
        offset: firstChunk.offset, byteCount: batch.storedByteCount, from: file)
      : nil
    for reference in batch.chunks {
      let tensor = manifest.tensors[reference.tensor]
      let chunk = tensor.chunks[reference.chunk]
      let destination = buffers[reference.tensor].slice(
        offset: Int(chunk.rawOffset), count: Int(chunk.rawByteCount))
      do {
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
        throw error.attributed(toTensor: tensor.name, chunk: reference.chunk, path: checkpointPath)
      }
    }
  }
}

/// Chunks that lie next to each other in one data file and are read with a single `pread`.
///
/// Checkpoints of thousands of small tensors would otherwise cost one pool job and one read
/// per chunk. A chunk is checked and decoded on its own whichever batch it is in.
struct ReadBatch: Sendable {
  /// Largest batch of several chunks, in stored bytes: 4 MiB.
  static let maxStoredByteCount: Int64 = 4 << 20

  /// How far ahead of the decoders the reader asks the kernel to read: 256 MiB. Far enough
  /// for the disk to stream, and small enough that prefetched pages are not evicted before
  /// their turn.
  static let prefetchByteCount: Int64 = 256 << 20

  /// Position of a chunk in the manifest.
  struct ChunkReference: Sendable {
    var tensor: Int
    var chunk: Int
  }

  var chunks: [ChunkReference]
  var storedByteCount: Int64

  /// Groups the chunks of `manifest` in file order. A chunk joins the current batch when it
  /// starts where the previous one ends in the same file and the batch stays within
  /// `maxStoredByteCount`. Any other chunk starts a new batch.
  static func plan(for manifest: Manifest, maxStoredByteCount: Int64) -> [ReadBatch] {
    var references: [(reference: ChunkReference, entry: ChunkEntry)] = []
    for (tensorIndex, tensor) in manifest.tensors.enumerated() {
      for (chunkIndex, chunk) in tensor.chunks.enumerated() {
        references.append((ChunkReference(tensor: tensorIndex, chunk: chunkIndex), chunk))
      }
    }
    references.sort { ($0.entry.file, $0.entry.offset) < ($1.entry.file, $1.entry.offset) }

    var batches: [ReadBatch] = []
    var current: ReadBatch?
    var currentEnd: (file: String, offset: Int64)?
    for (reference, entry) in references {
      let joins =
        current != nil && currentEnd?.file == entry.file && currentEnd?.offset == entry.offset
        && current!.storedByteCount + entry.storedByteCount <= maxStoredByteCount
      if joins {
        current!.chunks.append(reference)
        current!.storedByteCount += entry.storedByteCount
      } else {
        if let finished = current { batches.append(finished) }
        current = ReadBatch(chunks: [reference], storedByteCount: entry.storedByteCount)
      }
      currentEnd = (entry.file, entry.offset + entry.storedByteCount)
    }
    if let finished = current { batches.append(finished) }
    return batches
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
    try stored.withUnsafeBytes {
      try checkAndDecode(chunk, stored: $0, file: file, into: destination)
    }
  }

  /// Checks the checksum of a chunk's stored bytes and decodes them into `destination`.
  static func checkAndDecode(
    _ chunk: ChunkEntry, stored: UnsafeRawBufferPointer, file: OpenDataFile,
    into destination: UnsafeMutableRawBufferPointer
  ) throws {
    try checkChecksum(chunk, stored: stored, file: file)
    try ChunkCoding.decode(stored, codec: chunk.codec, into: destination)
  }

  /// Reads `byteCount` bytes at `offset` after checking that they lie inside the file.
  static func readRange(offset: Int64, byteCount: Int64, from file: OpenDataFile) throws
    -> [UInt8]
  {
    try checkRange(offset: offset, byteCount: byteCount, in: file)
    let count = Int(byteCount)
    var readCount = 0
    let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      readCount = try file.fileSystem.read(
        into: UnsafeMutableRawBufferPointer(buffer), from: file.descriptor, at: offset)
      initialized = readCount
    }
    guard readCount == count else {
      throw CheckpointError(
        .truncatedChunk,
        "read \(readCount) of \(count) stored bytes at offset \(offset) of '\(file.path)'")
    }
    return bytes
  }

  /// Reads a chunk's stored bytes after checking that they lie inside the file.
  static func readStoredBytes(_ chunk: ChunkEntry, from file: OpenDataFile) throws -> [UInt8] {
    try checkRange(offset: chunk.offset, byteCount: chunk.storedByteCount, in: file)
    guard chunk.storedByteCount <= ChunkCoding.maxRawByteCount * 2 else {
      throw CheckpointError(
        .invalidChunk,
        "stored length \(chunk.storedByteCount) exceeds twice the largest chunk Waymark writes")
    }
    return try readRange(offset: chunk.offset, byteCount: chunk.storedByteCount, from: file)
  }

  /// Throws `.truncatedChunk` when `byteCount` bytes at `offset` run past the end of `file`.
  static func checkRange(offset: Int64, byteCount: Int64, in file: OpenDataFile) throws {
    let end = offset + byteCount
    guard end <= file.byteCount else {
      throw CheckpointError(
        .truncatedChunk,
        "stored bytes \(offset)..<\(end) lie beyond the end of '\(file.path)' (\(file.byteCount) bytes); the data file is truncated"
      )
    }
  }

  static func checkChecksum(_ chunk: ChunkEntry, stored: UnsafeRawBufferPointer, file: OpenDataFile)
    throws
  {
    let actual = XXH3.hexString(XXH3.hash(stored))
    guard actual == chunk.checksum.lowercased() else {
      throw CheckpointError(
        .checksumMismatch,
        "checksum mismatch in '\(file.path)' at offset \(chunk.offset): manifest says \(chunk.checksum), data hashes to \(actual); the data is damaged, so restore this checkpoint from a copy or resume from an earlier one"
      )
    }
  }
}
