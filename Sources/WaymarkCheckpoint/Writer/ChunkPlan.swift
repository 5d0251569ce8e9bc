/// A tensor with its name, in the order the writer stores them.
///
/// A struct rather than a tuple: arrays of tuples holding an existential are copied through
/// the runtime's generic paths, which cost more than the rest of the plan for 10,000 tensors.
struct NamedTensor: Sendable {
  var name: String
  var tensor: Tensor
}

/// One chunk to encode: a slice of one tensor's raw bytes, or a pack of whole small tensors.
struct ChunkJob: Sendable {
  /// The origin of the job's raw bytes.
  enum Source: Sendable {
    /// Bytes `rawOffset..<rawOffset + rawByteCount` of one tensor.
    case slice(tensorIndex: Int, chunkIndex: Int, rawOffset: Int)
    /// Whole tensors of one dtype, one after another, in the order given.
    case pack(packIndex: Int, tensorIndices: [Int])
  }

  var source: Source
  var rawByteCount: Int
}

/// Splits tensors into chunks of bounded size and packs small tensors together.
///
/// A tiny chunk costs a fixed amount whatever its size: a zstd frame with its own tables, a
/// checksum, a manifest entry and a decode call. Packing small tensors of one dtype into
/// shared chunks turns thousands of those costs into a few, and the packed bytes compress
/// like one large tensor because their lanes still line up.
enum ChunkPlan {
  /// Returns the jobs for `tensors` in order.
  ///
  /// A tensor of at most `maxPackedTensorByteCount` bytes (and more than zero) joins the open
  /// pack of its dtype. A pack is closed when the next tensor would take it past
  /// `chunkByteCount`. Any other tensor is cut into slices of at most `chunkByteCount` bytes
  /// (rounded down to whole elements); an empty tensor has none. Packs are numbered in the
  /// order they are closed.
  static func jobs(
    for tensors: [NamedTensor], chunkByteCount: Int, maxPackedTensorByteCount: Int
  ) -> [ChunkJob] {
    var jobs: [ChunkJob] = []
    // The open pack of each dtype, by the dtype's position in `dtypes`.
    var openPacks = [OpenPack](repeating: OpenPack(), count: dtypes.count)
    var packCount = 0
    func close(_ slot: Int) {
      guard !openPacks[slot].tensorIndices.isEmpty else { return }
      jobs.append(
        ChunkJob(
          source: .pack(packIndex: packCount, tensorIndices: openPacks[slot].tensorIndices),
          rawByteCount: openPacks[slot].rawByteCount))
      openPacks[slot] = OpenPack()
      packCount += 1
    }

    let packLimit = min(maxPackedTensorByteCount, chunkByteCount)
    // Indices rather than elements: copying an element retains its name, shape and storage.
    for tensorIndex in tensors.indices {
      let byteCount = tensors[tensorIndex].tensor.byteCount
      guard byteCount > 0, byteCount <= packLimit else {
        jobs += slices(
          of: tensors[tensorIndex].tensor, tensorIndex: tensorIndex, chunkByteCount: chunkByteCount)
        continue
      }
      let slot = dtypes.firstIndex(of: tensors[tensorIndex].tensor.dtype)!
      if openPacks[slot].rawByteCount + byteCount > chunkByteCount { close(slot) }
      openPacks[slot].tensorIndices.append(tensorIndex)
      openPacks[slot].rawByteCount += byteCount
    }
    for slot in openPacks.indices { close(slot) }
    return jobs
  }

  /// Every dtype, computed once: `allCases` builds a new array on each call.
  private static let dtypes = DType.allCases

  /// The tensors gathered so far into the pack of one dtype.
  private struct OpenPack {
    var tensorIndices: [Int] = []
    var rawByteCount = 0
  }

  /// Returns the slices of one tensor of at most `chunkByteCount` bytes, whole elements each.
  private static func slices(of tensor: Tensor, tensorIndex: Int, chunkByteCount: Int)
    -> [ChunkJob]
  {
    let width = tensor.dtype.byteWidth
    let sliceByteCount = max(width, chunkByteCount / width * width)
    var jobs: [ChunkJob] = []
    var offset = 0
    while offset < tensor.byteCount {
      let count = min(sliceByteCount, tensor.byteCount - offset)
      jobs.append(
        ChunkJob(
          source: .slice(tensorIndex: tensorIndex, chunkIndex: jobs.count, rawOffset: offset),
          rawByteCount: count))
      offset += count
    }
    return jobs
  }
}

/// Consecutive chunks that one pool job encodes and writes with a single `pwrite`.
///
/// Small chunks would otherwise cost one pool job, one `pwrite` and one writeback request
/// each.
struct ChunkBatch: Sendable {
  var jobs: [ChunkJob]
}

extension ChunkPlan {
  /// Groups `jobs` in order into batches of at most `maxRawByteCount` raw bytes. A job as
  /// large as that forms a batch alone.
  static func batches(of jobs: [ChunkJob], maxRawByteCount: Int) -> [ChunkBatch] {
    var batches: [ChunkBatch] = []
    var current: [ChunkJob] = []
    var currentByteCount = 0
    for job in jobs {
      if !current.isEmpty, currentByteCount + job.rawByteCount > maxRawByteCount {
        batches.append(ChunkBatch(jobs: current))
        current = []
        currentByteCount = 0
      }
      current.append(job)
      currentByteCount += job.rawByteCount
    }
    if !current.isEmpty { batches.append(ChunkBatch(jobs: current)) }
    return batches
  }
}
