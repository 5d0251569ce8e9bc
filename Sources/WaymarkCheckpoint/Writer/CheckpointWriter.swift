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
  var maxPackedTensorByteCount: Int
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
    // Sorting the names alone moves strings, not name and tensor pairs.
    // FORMAT.md orders tensors by the UTF-8 bytes of their names, which any language can
    // reproduce; Swift's `<` compares normalized text instead. Sorting the names alone moves
    // strings, not name and tensor pairs.
    let tensors = request.state.tensors.keys.sorted {
      $0.utf8.lexicographicallyPrecedes($1.utf8)
    }.map {
      NamedTensor(name: $0, tensor: request.state.tensors[$0]!)
    }
    let dataFileName = CheckpointLayout.dataFileName(rank: rank)
    let dataPath = directory + "/" + dataFileName
    let fileSystem = self.fileSystem
    let file = try await io("checkpoint.create") { try fileSystem.createFile(at: dataPath) }

    let written: WrittenChunks
    do {
      written = try await writeChunks(of: tensors, to: file, fileName: dataFileName)
      try await io("checkpoint.fsync") { try fileSystem.synchronize(file, path: dataPath) }
    } catch {
      try? fileSystem.close(file, path: dataPath)
      throw error
    }
    try await io("checkpoint.close") { try fileSystem.close(file, path: dataPath) }

    let entries = tensors.indices.map { index in
      TensorEntry(
        name: tensors[index].name, dtype: tensors[index].tensor.dtype,
        shape: tensors[index].tensor.shape, byteCount: Int64(tensors[index].tensor.byteCount),
        chunks: written.chunks[index], pack: written.packLocations[index])
    }
    let writer = WriterEntry(
      rank: rank, worldSize: worldSize, host: ProcessInfo.processInfo.hostName,
      files: [dataFileName])
    // Without packs the checkpoint is a version 1 one, which older readers load.
    return Manifest(
      formatVersion: written.packs.isEmpty ? 1 : Manifest.currentFormatVersion,
      step: request.step, wallTime: request.wallTime, metrics: request.metrics,
      extraState: request.state.extraState, writers: [writer], tensors: entries,
      packs: written.packs)
  }

  /// The manifest entries of everything `writeChunks` wrote.
  private struct WrittenChunks {
    /// Each tensor's own chunks, in order of raw offset.
    var chunks: [[ChunkEntry]]
    /// The packs, by index.
    var packs: [ChunkEntry]
    /// Each tensor's place in a pack, or `nil` when it has its own chunks.
    var packLocations: [PackedLocation?]
  }

  /// Encodes and writes every chunk and pack with at most `parallelism` batches in flight.
  private func writeChunks(
    of tensors: [NamedTensor], to file: FileDescriptor, fileName: String
  ) async throws -> WrittenChunks {
    let jobs = ChunkPlan.jobs(
      for: tensors, chunkByteCount: chunkByteCount,
      maxPackedTensorByteCount: maxPackedTensorByteCount)
    let batches = ChunkPlan.batches(of: jobs, maxRawByteCount: chunkByteCount)
    let allocator = OffsetAllocator()
    var written = WrittenChunks(
      chunks: tensors.map { _ in [] }, packs: [], packLocations: tensors.map { _ in nil })
    var packs: [Int: ChunkEntry] = [:]

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
      while let results = try await group.next() {
        for (job, entry) in results {
          switch job.source {
          case .slice(let tensorIndex, _, _):
            written.chunks[tensorIndex].append(entry)
          case .pack(let packIndex, let tensorIndices):
            packs[packIndex] = entry
            var rawOffset: Int64 = 0
            for tensorIndex in tensorIndices {
              written.packLocations[tensorIndex] = PackedLocation(
                index: packIndex, rawOffset: rawOffset)
              rawOffset += Int64(tensors[tensorIndex].tensor.byteCount)
            }
          }
        }
        submitNext()
      }
    }
    written.packs = packs.keys.sorted().map { packs[$0]! }
    // Batches finish in any order, so each tensor's chunks are sorted by their raw offset.
    written.chunks = written.chunks.map { chunks in
      zip(chunks, chunks.dropFirst()).allSatisfy { $0.rawOffset < $1.rawOffset }
        ? chunks : chunks.sorted { $0.rawOffset < $1.rawOffset }
    }
    return written
  }

  /// Encodes a batch of chunks into one buffer and writes it at a freshly reserved offset.
  /// Runs on a pool thread.
  private func encodeAndWrite(
    _ batch: ChunkBatch, of tensors: [NamedTensor], to file: FileDescriptor,
    fileName: String, allocator: OffsetAllocator
  ) throws -> [(ChunkJob, ChunkEntry)] {
    let encodedChunks = try profiler.measure("checkpoint.compress", category: "checkpoint") {
      try batch.jobs.map { job in try encode(job, of: tensors) }
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
      var rawOffset = 0
      if case .slice(_, _, let offset) = job.source { rawOffset = offset }
      let entry = ChunkEntry(
        file: fileName, offset: chunkOffset, storedByteCount: Int64(encoded.stored.count),
        rawOffset: Int64(rawOffset), rawByteCount: Int64(job.rawByteCount),
        codec: encoded.codec, checksum: XXH3.hexString(encoded.checksum))
      chunkOffset += Int64(encoded.stored.count)
      return (job, entry)
    }
  }

  /// Encodes the raw bytes of one job: a slice of a tensor in place, or the tensors of a
  /// pack after copying them next to each other.
  private func encode(_ job: ChunkJob, of tensors: [NamedTensor]) throws
    -> EncodedChunk
  {
    switch job.source {
    case .slice(let tensorIndex, _, let rawOffset):
      let tensor = tensors[tensorIndex].tensor
      return try tensor.withUnsafeBytes { raw in
        let slice = UnsafeRawBufferPointer(
          rebasing: raw[rawOffset..<(rawOffset + job.rawByteCount)])
        return try ChunkCoding.encode(slice, dtype: tensor.dtype, policy: codec)
      }
    case .pack(_, let tensorIndices):
      // The packed bytes go into a borrowed workspace's scratch, so no fresh pages are touched
      // per pack. The encoder borrows a second workspace for its own scratch.
      return try ZstdWorkspace.withBorrowed { staging in
        try staging.withScratch(byteCount: job.rawByteCount) { packed in
          var offset = 0
          for tensorIndex in tensorIndices {
            tensors[tensorIndex].tensor.withUnsafeBytes { raw in
              UnsafeMutableRawBufferPointer(rebasing: packed[offset..<(offset + raw.count)])
                .copyMemory(from: raw)
              offset += raw.count
            }
          }
          let dtype = tensors[tensorIndices[0]].tensor.dtype
          return try ChunkCoding.encode(UnsafeRawBufferPointer(packed), dtype: dtype, policy: codec)
        }
      }
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
