import Foundation
import WaymarkCheckpoint

/// A training state to save: a total size in bytes, a tensor count and the dtype of every
/// tensor.
///
/// Tensors take turns being weights, Adam's first moment `m` and Adam's second moment `v`, so
/// any count from 3 up contains all three kinds in equal shares. A count of 1 is weights only.
/// The bytes are split evenly, rounded down to whole elements.
struct Workload: Sendable, CustomStringConvertible {
  var dtype: DType
  var byteCount: Int
  var tensorCount: Int

  var description: String {
    "\(dtype.rawValue) \(formatByteCount(byteCount)) × \(tensorCount)"
  }

  /// Builds the state, one tensor per job on all cores.
  func makeState(seed: UInt64 = 1) async -> TrainingState {
    let elementsPerTensor = max(1, byteCount / dtype.byteWidth / tensorCount)
    let dtype = self.dtype
    let tensors = await withTaskGroup(of: (String, Tensor).self) { group in
      for index in 0..<tensorCount {
        group.addTask {
          let kind = TensorKind.allCases[index % 3]
          let name = "layers.\(index / 3).\(kind.rawValue)"
          var generator = RandomNormal(seed: seed &* 1_000_003 &+ UInt64(index))
          let values = kind.values(count: elementsPerTensor, using: &generator)
          return (name, makeTensor(values, dtype: dtype))
        }
      }
      var tensors: [String: Tensor] = [:]
      for await (name, tensor) in group { tensors[name] = tensor }
      return tensors
    }
    return TrainingState(tensors: tensors, extraState: ["optimizer": ["lr": 3e-4, "step": 1000]])
  }
}

/// The three kinds of tensor in an Adam training state.
enum TensorKind: String, CaseIterable, Sendable {
  /// Weights: normal around 0 with standard deviation 0.02, the usual initialization scale.
  case weight
  /// Adam's first moment (`exp_avg` in PyTorch): `0.1 × g` for a gradient `g` normal with
  /// standard deviation 1e-3, which is the moment after one step with β1 = 0.9.
  case firstMoment = "exp_avg"
  /// Adam's second moment (`exp_avg_sq` in PyTorch): `0.001 × g² × u` with `u` uniform in
  /// [0.5, 1.5): positive, spread over many binades, shaped like an average of squared
  /// gradients.
  case secondMoment = "exp_avg_sq"

  func values(count: Int, using generator: inout RandomNormal) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      switch self {
      case .weight:
        for index in 0..<count { buffer[index] = 0.02 * generator.next() }
      case .firstMoment:
        for index in 0..<count { buffer[index] = 1e-4 * generator.next() }
      case .secondMoment:
        for index in 0..<count {
          let gradient = 1e-3 * generator.next()
          buffer[index] = 1e-3 * gradient * gradient * (0.5 + generator.nextUniform())
        }
      }
      initialized = count
    }
  }
}

/// Converts `values` to `dtype` (f32, bf16 or f16) and wraps them in a tensor.
func makeTensor(_ values: [Float], dtype: DType) -> Tensor {
  let shape = [values.count]
  switch dtype {
  case .bfloat16:
    return try! Tensor(values.map { BFloat16($0) }, shape: shape)
  case .float16:
    return try! Tensor(values.map { Float16($0) }, shape: shape)
  default:
    return try! Tensor(values, shape: shape)
  }
}

/// A fast normal random generator: xoshiro256** for bits, Box–Muller for the normal shape.
///
/// Benchmarks need gigabytes of plausible weights quickly, not cryptographic quality.
struct RandomNormal {
  private var state: (UInt64, UInt64, UInt64, UInt64)
  private var spare: Float?

  init(seed: UInt64) {
    var mixer = seed
    func splitMix() -> UInt64 {
      mixer &+= 0x9E37_79B9_7F4A_7C15
      var value = mixer
      value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
      value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
      return value ^ (value >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  mutating func nextBits() -> UInt64 {
    let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
    let shifted = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= shifted
    state.3 = state.3 << 45 | state.3 >> 19
    return result
  }

  /// Returns a uniform value in [0, 1).
  mutating func nextUniform() -> Float {
    Float(nextBits() >> 40) * 0x1p-24
  }

  /// Returns a standard normal value.
  mutating func next() -> Float {
    if let spare {
      self.spare = nil
      return spare
    }
    let bits = nextBits()
    let first = (Float(bits >> 40) + 0.5) * 0x1p-24
    let second = Float((bits >> 16) & 0xFF_FFFF) * 0x1p-24
    let radius = (-2 * logf(first)).squareRoot()
    let angle = 2 * Float.pi * second
    spare = radius * sinf(angle)
    return radius * cosf(angle)
  }
}
