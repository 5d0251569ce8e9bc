// Elementwise exp and tanh on eight floats at a time, in plain Swift arithmetic.
//
// These replace the C library's expf and tanhf in the model's hot loops: they vectorize, and
// they give the same bits on every platform because they use only IEEE 754 additions,
// multiplications, divisions and bit operations, with no fused multiply-add.

/// The float whose addition rounds a value below 2^22 in magnitude to an integer: 1.5 · 2^23.
private let roundingShift: Float = 12_582_912
private let log2OfE: Float = 1.442_695_04
// ln(2) split so that `n * lnTwoHigh` is exact for |n| < 2^10 (Cody and Waite's reduction).
private let lnTwoHigh: Float = 0.693_145_751_953_125
private let lnTwoLow: Float = 1.428_606_765_330_187_045e-6

/// Returns e^x for each lane, with a relative error below about 2e-7.
///
/// Inputs are clamped to [-87, 88], so the result is never infinite, zero or subnormal,
/// and inputs below -87 return e^-87 ≈ 1.6e-38.
@inline(__always)
func exponential(_ x: FloatVector) -> FloatVector {
  exponentialInRange(clamped(x, lowerBound: -87, upperBound: 88))
}

/// Returns e^x for each lane of `x`, which must lie in [-87, 88].
@inline(__always)
private func exponentialInRange(_ clamped: FloatVector) -> FloatVector {
  // x = n·ln 2 + r with n an integer and |r| ≤ ln(2)/2. The low mantissa bits of the
  // shifted sum contain n.
  let shifted = clamped * log2OfE + roundingShift
  let n = shifted - roundingShift
  let r = clamped - n * lnTwoHigh - n * lnTwoLow

  // e^r by its Taylor series to degree 7; the first omitted term is below 1e-8 of the result.
  var series = FloatVector(repeating: 1.0 / 5040)
  series = series * r + 1.0 / 720
  series = series * r + 1.0 / 120
  series = series * r + 1.0 / 24
  series = series * r + 1.0 / 6
  series = series * r + 0.5
  series = series * r + 1
  series = series * r + 1

  // 2^n: n + 127 in the exponent field of a float; n lies in [-126, 127] after the clamp.
  let exponentBits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127
  let scale = unsafeBitCast(exponentBits &<< 23, to: FloatVector.self)
  return series * scale
}

/// Returns tanh(x) for each lane as (e^2x − 1) / (e^2x + 1), with an absolute error below
/// about 3e-7.
///
/// Inputs are clamped to [-10, 10], where tanh already rounds to ±1 in float32.
@inline(__always)
func hyperbolicTangent(_ x: FloatVector) -> FloatVector {
  let e = exponentialInRange(clamped(x, lowerBound: -10, upperBound: 10) * 2)
  return (e - 1) / (e + 1)
}

/// Returns `x` with each lane limited to `[lowerBound, upperBound]`; NaN lanes stay NaN.
@inline(__always)
private func clamped(_ x: FloatVector, lowerBound: Float, upperBound: Float) -> FloatVector {
  var result = x
  result.replace(with: lowerBound, where: x .< lowerBound)
  result.replace(with: upperBound, where: x .> upperBound)
  return result
}
