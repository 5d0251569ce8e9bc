/// A manifest with what loading needs to know about its packs.
struct LoadPlan: Sendable {
  var manifest: Manifest
  /// Tensor indices of each pack, in order of raw offset.
  var packMembers: [[Int]]

  init(manifest: Manifest) {
    self.manifest = manifest
    self.packMembers = manifest.packMembers()
  }

  /// Returns `error` naming the tensor and chunk, or the pack and its tensors, it concerns.
  func attribute(_ error: CheckpointError, to piece: ReadBatch.Piece, path: String)
    -> CheckpointError
  {
    switch piece {
    case .chunk(let tensor, let index):
      return error.attributed(toTensor: manifest.tensors[tensor].name, chunk: index, path: path)
    case .pack(let pack):
      return error.attributed(
        toPack: pack, tensors: packMembers[pack].map { manifest.tensors[$0].name }, path: path)
    }
  }
}

/// The memory a load decodes into: one buffer per tensor with chunks of its own, and one per
/// pack, which the pack's tensors share.
///
/// Sharing spares a checkpoint of 10,000 small tensors 10,000 allocations and a copy of every
/// packed byte. A packed tensor that outlives the others keeps its whole pack in memory, at
/// most one chunk's size.
struct LoadBuffers: Sendable {
  /// The buffer of each tensor; `nil` for a packed one.
  var tensors: [TensorBuffer?]
  /// The buffer of each pack.
  var packs: [TensorBuffer]

  /// Allocates every buffer `manifest` needs.
  ///
  /// - Throws: ``CheckpointError`` with `.outOfMemory` naming the tensor or pack.
  init(for plan: LoadPlan, path: String) throws {
    let manifest = plan.manifest
    tensors = try manifest.tensors.map { entry in
      guard entry.pack == nil else { return nil }
      do {
        return try TensorBuffer(byteCount: Int(entry.byteCount))
      } catch let error as CheckpointError {
        throw error.attributed(toTensor: entry.name, path: path)
      }
    }
    packs = try manifest.packs.indices.map { index in
      do {
        return try TensorBuffer(byteCount: Int(manifest.packs[index].rawByteCount))
      } catch let error as CheckpointError {
        throw plan.attribute(error, to: .pack(index), path: path)
      }
    }
  }

  /// Returns the bytes a piece decodes into: its range of the tensor's buffer, or the whole
  /// buffer of a pack.
  func destination(of piece: ReadBatch.Piece, in manifest: Manifest)
    -> UnsafeMutableRawBufferPointer
  {
    switch piece {
    case .chunk(let tensor, let index):
      let chunk = manifest.tensors[tensor].chunks[index]
      return tensors[tensor]!.slice(offset: Int(chunk.rawOffset), count: Int(chunk.rawByteCount))
    case .pack(let pack):
      return packs[pack].slice(offset: 0, count: Int(manifest.packs[pack].rawByteCount))
    }
  }

  /// Returns the storage of a decoded tensor: its own buffer, or its range of its pack's.
  func storage(ofTensor index: Int, in manifest: Manifest) -> any TensorStorage {
    let entry = manifest.tensors[index]
    guard let location = entry.pack else { return tensors[index]! }
    let start = Int(location.rawOffset)
    return TensorBufferSlice(
      buffer: packs[location.index], range: start..<(start + Int(entry.byteCount)))
  }
}

/// A tensor's bytes inside a buffer that other tensors share.
struct TensorBufferSlice: TensorStorage {
  let buffer: TensorBuffer
  let range: Range<Int>

  func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
  {
    try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
  }
}
