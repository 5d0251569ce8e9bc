import Foundation
import Synchronization
import WaymarkCore

/// The content of one save: the captured state and the facts recorded with it.
struct CheckpointWriteRequest: Sendable {
  var step: Int64
  var state: TrainingState
  var metrics: [String: Double]
  var wallTime: Double
}

/// A checkpoint that is committed and durable.
public struct CommittedCheckpoint: Sendable, Equatable {
  /// Training step of the checkpoint.
  public var step: Int64
  /// Path of the checkpoint directory.
  public var path: String
  /// Raw bytes of all tensors.
  public var rawByteCount: Int64
  /// Bytes of chunk data and manifest on disk.
  public var storedByteCount: Int64
  /// Seconds from the start of the background write to the durable commit.
  public var writeSeconds: Double
}

/// Writes one checkpoint into a store directory and commits it.
///
/// Chunks are encoded in parallel on the blocking pool and written with `pwrite` at offsets
/// reserved as each finishes. Small chunks travel in batches of up to `chunkByteCount` raw
/// bytes, one pool job and one `pwrite` per batch, so at most `parallelism` encoded batches
/// exist at once. The
/// commit protocol is: data file fsynced, manifest written and fsynced, temporary directory
/// fsynced, renamed to its final name, store directory fsynced.
struct CheckpointWriter: Sendable {
  var storeDirectory: String
  var fileSystem: any FileSystem
  var pool: BlockingThreadPool
  var profiler: Profiler
  var chunkByteCount: Int
  var codec: CodecPolicy
  var parallelism: Int
  var rank: Int = 0
  var worldSize: Int = 1

  /// Writes and commits `request`; returns after the store directory is fsynced.
  func write(_ request: CheckpointWriteRequest) async throws -> CommittedCheckpoint {
    let start = MonotonicClock.nanoseconds()
    let temporaryName = CheckpointLayout.uniqueName(
      prefix: CheckpointLayout.temporaryPrefix, step: request.step)
    let temporaryPath = storeDirectory + "/" + temporaryName
    let finalPath = storeDirectory + "/" + CheckpointLayout.directoryName(step: request.step)
    let fileSystem = self.fileSystem

    try await io("checkpoint.mkdir") { try fileSystem.createDirectory(at: temporaryPath) }
    do {
      let manifest = try await writeContents(request, into: temporaryPath)
      let manifestBytes = try ManifestFile.encode(manifest)
      try await io("checkpoint.manifest") {
        try fileSystem.writeNewFile(
          at: temporaryPath + "/" + ManifestFile.fileName, bytes: manifestBytes)
      }
      try await io("checkpoint.fsync") { try fileSystem.synchronizeDirectory(at: temporaryPath) }
      try await commit(temporaryPath: temporaryPath, finalPath: finalPath, step: request.step)

      return CommittedCheckpoint(
        step: request.step, path: finalPath, rawByteCount: manifest.rawByteCount,
        storedByteCount: manifest.storedByteCount + Int64(manifestBytes.count),
        writeSeconds: Double(MonotonicClock.nanoseconds() - start) / 1e9)
    } catch {
      // The temporary directory is invisible to readers; removing it is a courtesy, and the
      // next open for writing removes whatever this leaves.
      try? await pool.run { try fileSystem.removeTree(at: temporaryPath) }
      throw error
    }
  }

  /// Renames the finished temporary directory into place and fsyncs the store directory.
  private func commit(temporaryPath: String, finalPath: String, step: Int64) async throws {
    let fileSystem = self.fileSystem
    let storeDirectory = self.storeDirectory
    try await io("checkpoint.commit") {
      if fileSystem.exists(at: finalPath) {
        throw CheckpointError(
          .alreadyExists,
          "a checkpoint for step \(step) already exists at '\(finalPath)'; committed checkpoints are never overwritten, so save under another step or delete it first",
          path: finalPath)
      }
      try fileSystem.rename(from: temporaryPath, to: finalPath)
      do {
        try fileSystem.synchronizeDirectory(at: storeDirectory)
      } catch {
        // The rename may not be durable, so the save reports failure. Moving the checkpoint
        // out of sight keeps what readers see consistent with that report, and lets a retry
        // of the same step commit.
        let trashPath =
          storeDirectory + "/"
          + CheckpointLayout.uniqueName(prefix: CheckpointLayout.trashPrefix, step: step)
        try? fileSystem.rename(from: finalPath, to: trashPath)
        try? fileSystem.synchronizeDirectory(at: storeDirectory)
        throw error
      }
    }
  }

  /// Writes the data file and returns the manifest that describes it.
  private func writeContents(_ request: CheckpointWriteRequest, into directory: String) async throws
    -> Manifest
  {
    // `CheckpointManager.save` has validated every name before the request reached here.
    let tensors = request.state.tensors.sorted { $0.key < $1.key }.map {
      (name: $0.key, tensor: $0.value)
    }
    let dataFileName = CheckpointLayout.dataFileName(rank: rank)
    let dataPath = directory + "/" + dataFileName
    let fileSystem = self.fileSystem
    let file = try await io("checkpoint.create") { try fileSystem.createFile(at: dataPath) }

    let chunks: [[ChunkEntry]]
    do {
      chunks = try await writeChunks(of: tensors, to: file, fileName: dataFileName)
      try await io("checkpoint.fsync") { try fileSystem.synchronize(file, path: dataPath) }
    } catch {
      try? fileSystem.close(file, path: dataPath)
      throw error
    }
    try await io("checkpoint.close") { try fileSystem.close(file, path: dataPath) }

    let entries = tensors.enumerated().map { index, entry in
      TensorEntry(
        name: entry.name, dtype: entry.tensor.dtype, shape: entry.tensor.shape,
        byteCount: Int64(entry.tensor.byteCount), chunks: chunks[index])
    }
    let writer = WriterEntry(
      rank: rank, worldSize: worldSize, host: ProcessInfo.processInfo.hostName,
      files: [dataFileName])
    return Manifest(
      step: request.step, wallTime: request.wallTime, metrics: request.metrics,
      extraState: request.state.extraState, writers: [writer], tensors: entries)
  }

  /// Encodes and writes every chunk with at most `parallelism` batches in flight.
  private func writeChunks(
    of tensors: [(name: String, tensor: Tensor)], to file: FileDescriptor, fileName: String
  ) async throws -> [[ChunkEntry]] {
    let jobs = ChunkPlan.jobs(for: tensors, chunkByteCount: chunkByteCount)
    let batches = ChunkPlan.batches(of: jobs, maxRawByteCount: chunkByteCount)
    let allocator = OffsetAllocator()
    var results = tensors.map { _ in [ChunkEntry]() }

    try await withThrowingTaskGroup(of: [(ChunkJob, ChunkEntry)].self) { group in
      var next = 0
      func submitNext() {
        guard next < batches.count else { return }
        let batch = batches[next]
        next += 1
        group.addTask { [self] in
          try Task.checkCancellation()
          return try await pool.run {
            try encodeAndWrite(
              batch, of: tensors, to: file, fileName: fileName, allocator: allocator)
          }
        }
      }
      for _ in 0..<max(1, parallelism) { submitNext() }
      while let written = try await group.next() {
        for (job, entry) in written {
          results[job.tensorIndex].append(entry)
        }
        submitNext()
      }
    }
    // Batches finish in any order, so each tensor's chunks are sorted by their raw offset.
    return results.map { chunks in
      zip(chunks, chunks.dropFirst()).allSatisfy { $0.rawOffset < $1.rawOffset }
        ? chunks : chunks.sorted { $0.rawOffset < $1.rawOffset }
    }
  }

  /// Encodes a batch of chunks into one buffer and writes it at a freshly reserved offset.
  /// Runs on a pool thread.
  private func encodeAndWrite(
    _ batch: ChunkBatch, of tensors: [(name: String, tensor: Tensor)], to file: FileDescriptor,
    fileName: String, allocator: OffsetAllocator
  ) throws -> [(ChunkJob, ChunkEntry)] {
    let encodedChunks = try profiler.measure("checkpoint.compress", category: "checkpoint") {
      try batch.jobs.map { job in
        let tensor = tensors[job.tensorIndex].tensor
        return try tensor.withUnsafeBytes { raw in
          let slice = UnsafeRawBufferPointer(
            rebasing: raw[job.rawOffset..<(job.rawOffset + job.rawByteCount)])
          return try ChunkCoding.encode(slice, dtype: tensor.dtype, policy: codec)
        }
      }
    }
    let stored = concatenated(encodedChunks.map(\.stored))
    let offset = allocator.reserve(stored.count)
    try profiler.measure("checkpoint.pwrite", category: "checkpoint") {
      try stored.withUnsafeBytes { try fileSystem.write($0, to: file, at: offset) }
    }
    // Writeback starts while later chunks are still encoding, so the final fsync waits for
    // less.
    fileSystem.startWriteback(file, offset: offset, byteCount: Int64(stored.count))

    var chunkOffset = offset
    return zip(batch.jobs, encodedChunks).map { job, encoded in
      let entry = ChunkEntry(
        file: fileName, offset: chunkOffset, storedByteCount: Int64(encoded.stored.count),
        rawOffset: Int64(job.rawOffset), rawByteCount: Int64(job.rawByteCount),
        codec: encoded.codec, checksum: XXH3.hexString(encoded.checksum))
      chunkOffset += Int64(encoded.stored.count)
      return (job, entry)
    }
  }

  /// Returns the parts one after another, copying with `memcpy` rather than element by element.
  private func concatenated(_ parts: [[UInt8]]) -> [UInt8] {
    if parts.count == 1 { return parts[0] }
    var joined: [UInt8] = []
    joined.reserveCapacity(parts.reduce(0) { $0 + $1.count })
    for part in parts { joined.append(contentsOf: part) }
    return joined
  }

  /// Runs a blocking file operation on the pool inside a profiler span.
  private func io<T: Sendable>(_ name: String, _ work: @escaping @Sendable () throws -> T)
    async throws -> T
  {
    let profiler = self.profiler
    return try await pool.run {
      try profiler.measure(name, category: "checkpoint", work)
    }
  }
}

/// Hands out disjoint byte ranges of a data file to concurrent chunk writers.
final class OffsetAllocator: Sendable {
  private let next = Atomic<Int64>(0)

  /// Reserves `byteCount` bytes and returns where they start.
  func reserve(_ byteCount: Int) -> Int64 {
    next.add(Int64(byteCount), ordering: .relaxed).oldValue
  }
}
