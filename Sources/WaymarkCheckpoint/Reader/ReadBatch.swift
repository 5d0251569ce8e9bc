/// Chunks and packs that lie next to each other in one data file and are read with a single
/// `pread`.
///
/// Checkpoints of thousands of small tensors would otherwise cost one pool job and one read
/// per chunk. Each chunk is checked and decoded on its own whichever batch it is in.
struct ReadBatch: Sendable {
  /// Largest batch of several chunks, in stored bytes: 4 MiB.
  static let maxStoredByteCount: Int64 = 4 << 20

  /// How far ahead of the decoders the reader asks the kernel to read: 256 MiB. Far enough
  /// for the disk to stream, and small enough that prefetched pages are not evicted before
  /// their turn.
  static let prefetchByteCount: Int64 = 256 << 20

  /// One stored range of the manifest: a chunk of one tensor, or a pack.
  enum Piece: Sendable {
    case chunk(tensor: Int, index: Int)
    case pack(Int)
  }

  var pieces: [Piece]
  var storedByteCount: Int64

  /// Returns every chunk of every tensor, then every pack.
  static func pieces(of manifest: Manifest) -> [Piece] {
    var pieces: [Piece] = []
    for (tensorIndex, tensor) in manifest.tensors.enumerated() {
      for chunkIndex in tensor.chunks.indices {
        pieces.append(.chunk(tensor: tensorIndex, index: chunkIndex))
      }
    }
    pieces += manifest.packs.indices.map { .pack($0) }
    return pieces
  }

  /// Groups the chunks and packs of `manifest` in file order. A piece joins the current
  /// batch when it starts where the previous one ends in the same file and the batch stays
  /// within `maxStoredByteCount`. Any other piece starts a new batch.
  static func plan(for manifest: Manifest, maxStoredByteCount: Int64) -> [ReadBatch] {
    let references = pieces(of: manifest).map { (piece: $0, entry: manifest.entry(of: $0)) }
      .sorted { ($0.entry.file, $0.entry.offset) < ($1.entry.file, $1.entry.offset) }

    var batches: [ReadBatch] = []
    var current: ReadBatch?
    var currentEnd: (file: String, offset: Int64)?
    for (piece, entry) in references {
      let joins =
        current != nil && currentEnd?.file == entry.file && currentEnd?.offset == entry.offset
        && current!.storedByteCount + entry.storedByteCount <= maxStoredByteCount
      if joins {
        current!.pieces.append(piece)
        current!.storedByteCount += entry.storedByteCount
      } else {
        if let finished = current { batches.append(finished) }
        current = ReadBatch(pieces: [piece], storedByteCount: entry.storedByteCount)
      }
      currentEnd = (entry.file, entry.offset + entry.storedByteCount)
    }
    if let finished = current { batches.append(finished) }
    return batches
  }
}

extension Manifest {
  /// Returns the chunk entry of a piece: a tensor's chunk, or a pack.
  func entry(of piece: ReadBatch.Piece) -> ChunkEntry {
    switch piece {
    case .chunk(let tensor, let index): tensors[tensor].chunks[index]
    case .pack(let pack): packs[pack]
    }
  }
}
