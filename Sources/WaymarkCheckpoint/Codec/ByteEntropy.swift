import Foundation

/// Order-0 entropy of a byte sequence: how many bits per byte a coder that looks at each byte
/// on its own, such as Huffman coding, needs at best.
///
/// A lane of float mantissa bytes measures close to 8 bits and cannot shrink, while an
/// exponent lane measures about 3. For small lanes, zstd's fixed cost per frame (a few
/// microseconds for its literal tables) is larger than the work, so the byte-lane codec computes
/// this estimate first and skips zstd on lanes it cannot shrink.
enum ByteEntropy {
  /// Maximum count the lookup table covers. Larger counts compute their logarithm directly.
  static let tableCount = ByteLanes.sampleElementCount

  /// `c * log2(c)` for every count up to ``tableCount``.
  private static let countTimesLog: [Double] = (0...tableCount).map { count in
    count == 0 ? 0 : Double(count) * log2(Double(count))
  }

  /// Returns the entropy of `bytes` in bits per byte, from 0 (one value repeated) to about 8.
  ///
  /// The plain estimate from counts falls short of the true entropy on short sequences (about
  /// 0.11 bits for 1,600 random bytes), so the Miller–Madow correction, (K − 1) / (2n ln 2)
  /// bits for K distinct values, is added.
  static func bitsPerByte(_ bytes: UnsafeRawBufferPointer) -> Double {
    guard bytes.count > 0 else { return 0 }
    return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 1024) { counts in
      counts.initialize(repeating: 0)
      count(bytes, into: counts)
      let total = Double(bytes.count)
      var sum = 0.0
      var distinct = 0
      countTimesLog.withUnsafeBufferPointer { table in
        for value in 0..<256 {
          let count = Int(
            counts[value] + counts[value + 256] + counts[value + 512] + counts[value + 768])
          guard count > 0 else { continue }
          distinct += 1
          sum += count <= tableCount ? table[count] : Double(count) * log2(Double(count))
        }
      }
      // H = log2(n) - (1/n) * sum(c * log2(c)).
      let plain = log2(total) - sum / total
      return plain + Double(distinct - 1) / (2 * total * M_LN2)
    }
  }

  /// Counts byte values into four interleaved histograms of 256 entries each, so that
  /// consecutive equal bytes do not wait on each other's increments.
  private static func count(
    _ bytes: UnsafeRawBufferPointer, into counts: UnsafeMutableBufferPointer<UInt32>
  ) {
    let source = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
    let histogram = counts.baseAddress!
    let quads = bytes.count / 4
    var position = 0
    for _ in 0..<quads {
      histogram[Int(source[position])] &+= 1
      histogram[256 + Int(source[position + 1])] &+= 1
      histogram[512 + Int(source[position + 2])] &+= 1
      histogram[768 + Int(source[position + 3])] &+= 1
      position += 4
    }
    while position < bytes.count {
      histogram[Int(source[position])] &+= 1
      position += 1
    }
  }
}
