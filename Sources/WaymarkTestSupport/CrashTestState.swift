public import WaymarkCheckpoint

/// Returns the state and metrics the crash helper saves at `step`, derived from the step
/// alone, so a test can recompute what a killed helper committed.
public func crashTestState(step: Int64, elementCount: Int) throws -> (
  TrainingState, [String: Double]
) {
  var generator = SplitMix64(state: UInt64(bitPattern: step) &* 0x2545_F491_4F6C_DD1D)
  var words = [UInt32](repeating: 0, count: elementCount)
  for index in words.indices {
    // Small values compress, so chunks differ in stored size as real tensors do.
    words[index] = UInt32(truncatingIfNeeded: generator.next()) & 0x0000_FFFF
  }
  let bias = (0..<16).map { _ in Int64(bitPattern: generator.next()) }
  let state = TrainingState(
    tensors: [
      "weights": try Tensor(words, shape: [elementCount]),
      "bias": try Tensor(bias, shape: [16]),
    ],
    extraState: ["step": .int(step), "rng": .string(String(generator.next(), radix: 16))])
  let loss = step % 13 == 0 ? Double.nan : 1.0 / Double(1 + step % 17)
  return (state, ["loss": loss])
}
