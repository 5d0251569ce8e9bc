/// A log-linear histogram of durations: 16 buckets per power of two, so a percentile read
/// from it is within about 3% of the true value, in constant memory.
struct DurationHistogram: Sendable {
  private static let subBucketBits = 4
  private static let subBucketCount = 1 << subBucketBits

  private var counts = [UInt64](repeating: 0, count: 64 * DurationHistogram.subBucketCount)
  private(set) var count = 0
  private(set) var totalNanoseconds: UInt64 = 0
  private(set) var maxNanoseconds: UInt64 = 0

  mutating func record(_ nanoseconds: UInt64) {
    counts[Self.bucketIndex(nanoseconds)] += 1
    count += 1
    totalNanoseconds &+= nanoseconds
    maxNanoseconds = max(maxNanoseconds, nanoseconds)
  }

  /// Returns the value below which `fraction` of the recorded durations fall.
  func percentile(_ fraction: Double) -> UInt64 {
    guard count > 0 else { return 0 }
    let rank = UInt64((Double(count) * fraction).rounded(.up))
    var seen: UInt64 = 0
    for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
      seen += bucketCount
      if seen >= max(rank, 1) {
        return min(Self.bucketMidpoint(index), maxNanoseconds)
      }
    }
    return maxNanoseconds
  }

  private static func bucketIndex(_ value: UInt64) -> Int {
    if value < UInt64(subBucketCount) { return Int(value) }
    let magnitude = 63 - value.leadingZeroBitCount
    let shift = magnitude - subBucketBits
    let subBucket = Int((value >> UInt64(shift)) & UInt64(subBucketCount - 1))
    return (shift + 1) * subBucketCount + subBucket
  }

  private static func bucketMidpoint(_ index: Int) -> UInt64 {
    if index < subBucketCount { return UInt64(index) }
    let shift = index / subBucketCount - 1
    let subBucket = UInt64(index % subBucketCount)
    let low = (UInt64(subBucketCount) | subBucket) << UInt64(shift)
    let width = UInt64(1) << UInt64(shift)
    return low + width / 2
  }
}
