/// One chunk to encode: a slice of one tensor's raw bytes.
struct ChunkJob: Sendable {
  var tensorIndex: Int
  var chunkIndex: Int
  var rawOffset: Int
  var rawByteCount: Int
}

/// Splits tensors into chunks of bounded size.
enum ChunkPlan {
  /// Returns the chunks of `tensors` in order: each tensor's bytes in slices of at most
  /// `chunkByteCount` (rounded down to whole elements), none for an empty tensor.
  static func jobs(for tensors: [(name: String, tensor: Tensor)], chunkByteCount: Int) -> [ChunkJob]
  {
    var jobs: [ChunkJob] = []
    for (tensorIndex, entry) in tensors.enumerated() {
      let width = entry.tensor.dtype.byteWidth
      let sliceByteCount = max(width, chunkByteCount / width * width)
      var offset = 0
      var chunkIndex = 0
      while offset < entry.tensor.byteCount {
        let count = min(sliceByteCount, entry.tensor.byteCount - offset)
        jobs.append(
          ChunkJob(
            tensorIndex: tensorIndex, chunkIndex: chunkIndex, rawOffset: offset, rawByteCount: count
          ))
        offset += count
        chunkIndex += 1
      }
    }
    return jobs
  }
}

/// Consecutive chunks that one pool job encodes and writes with a single `pwrite`.
///
/// Small tensors would otherwise cost one pool job, one `pwrite` and one writeback request
/// each, which dominated saves of thousands of tensors.
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
