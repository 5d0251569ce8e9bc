import Foundation
import Testing

@testable import WaymarkDemo

@Suite("Demo vector math")
struct DemoVectorMathTests {
  /// Returns `count` evenly spaced floats from `lowerBound` to `upperBound`.
  private func grid(from lowerBound: Float, to upperBound: Float, count: Int) -> [Float] {
    (0..<count).map { lowerBound + (upperBound - lowerBound) * Float($0) / Float(count - 1) }
  }

  @Test("exponential matches the C library within 3e-7 relative")
  func exponentialAccuracy() {
    for x in grid(from: -87, to: 88, count: 100_003) {
      let result = exponential(FloatVector(repeating: x))[0]
      let expected = Foundation.exp(Double(x))
      #expect(abs(Double(result) - expected) <= 3e-7 * expected, "exp(\(x)) = \(result)")
    }
  }

  @Test("exponential clamps out-of-range inputs")
  func exponentialClamps() {
    let large = exponential(FloatVector(repeating: 200))[0]
    let small = exponential(FloatVector(repeating: -200))[0]

    #expect(large.isFinite)
    #expect(large == exponential(FloatVector(repeating: 88))[0])
    #expect(small > 0)
    #expect(small == exponential(FloatVector(repeating: -87))[0])
    #expect(exponential(FloatVector(repeating: .nan))[0].isNaN)
  }

  @Test("hyperbolic tangent matches the C library within 3e-7")
  func hyperbolicTangentAccuracy() {
    for x in grid(from: -30, to: 30, count: 100_003) + [0, 1e-6, -1e-6, 1e-3] {
      let result = hyperbolicTangent(FloatVector(repeating: x))[0]
      let expected = Foundation.tanh(Double(x))
      #expect(abs(Double(result) - expected) <= 3e-7, "tanh(\(x)) = \(result)")
    }
    #expect(hyperbolicTangent(FloatVector(repeating: 50))[0] == 1)
    #expect(hyperbolicTangent(FloatVector(repeating: -50))[0] == -1)
  }

  @Test("lanes are computed independently")
  func lanesAreIndependent() {
    let inputs = FloatVector(-3, -0.5, 0, 0.25, 1, 2.5, 7, -12)
    let vectorResult = hyperbolicTangent(inputs)
    for lane in 0..<FloatVector.scalarCount {
      let laneResult = hyperbolicTangent(FloatVector(repeating: inputs[lane]))[0]
      #expect(vectorResult[lane].bitPattern == laneResult.bitPattern)
    }
  }

  @Test("partial row goes through the same arithmetic as full groups")
  func partialRowMatchesFullGroups() {
    var row: [Float] = (0..<11).map { Float($0) * 0.37 - 2 }
    let expected = row.map { hyperbolicTangent(FloatVector(repeating: $0))[0] }
    row.withUnsafeMutableBufferPointer { buffer in
      applyToRow(buffer.baseAddress!, count: buffer.count) { hyperbolicTangent($0) }
    }

    #expect(row.map(\.bitPattern) == expected.map(\.bitPattern))
  }
}
