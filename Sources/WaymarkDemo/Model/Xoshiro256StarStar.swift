/// The xoshiro256** pseudo-random generator (Blackman and Vigna, 2018), whose whole state is
/// four `UInt64` words that can be saved and restored.
///
/// The same seed or state gives the same sequence on every platform. Not for cryptography.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Hashable {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64

  /// The four state words, never all zero.
  public var state: [UInt64] { [s0, s1, s2, s3] }

  /// Creates a generator whose state is four outputs of SplitMix64 started at `seed`, the
  /// seeding the algorithm's authors recommend.
  public init(seed: UInt64) {
    var mixer = seed
    var words: [UInt64] = []
    for _ in 0..<4 {
      mixer &+= 0x9E37_79B9_7F4A_7C15
      var z = mixer
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      words.append(z ^ (z >> 31))
    }
    (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
  }

  /// Creates a generator that continues from a saved ``state``.
  ///
  /// - Returns: `nil` unless `state` has exactly four words and at least one is non-zero.
  public init?(state: [UInt64]) {
    guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
    (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
  }

  /// Returns the next 64 random bits and advances the state.
  public mutating func next() -> UInt64 {
    let result = rotateLeft(s1 &* 5, by: 7) &* 9
    let shifted = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= shifted
    s3 = rotateLeft(s3, by: 45)
    return result
  }

  /// Returns an integer in `0..<upperBound` from one output, by the high word of a 128-bit
  /// product.
  ///
  /// The bias is below `upperBound / 2^64`, which is negligible for the corpus sizes the
  /// demo reads, and each call consumes exactly one output, so sequences stay reproducible.
  mutating func nextIndex(below upperBound: Int) -> Int {
    Int(truncatingIfNeeded: UInt64(upperBound).multipliedFullWidth(by: next()).high)
  }

  /// Returns a float uniformly spaced in `[-1, 1)` from the top 24 bits of one output.
  mutating func nextSignedUnitFloat() -> Float {
    Float(next() >> 40) * 0x1p-23 - 1
  }

  /// Returns a float uniformly spaced in `[0, 1)` from the top 24 bits of one output.
  mutating func nextUnitFloat() -> Float {
    Float(next() >> 40) * 0x1p-24
  }
}

private func rotateLeft(_ value: UInt64, by count: UInt64) -> UInt64 {
  (value << count) | (value >> (64 - count))
}
