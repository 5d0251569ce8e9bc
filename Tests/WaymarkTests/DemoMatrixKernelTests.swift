import Testing

@testable import WaymarkDemo

@Suite("Demo matrix kernels")
struct DemoMatrixKernelTests {
  /// Returns `count` deterministic floats in [-1, 1).
  private func values(_ count: Int, seed: UInt64) -> [Float] {
    var generator = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in generator.nextSignedUnitFloat() }
  }

  @Test(
    "product with transposed right matches a double reference",
    arguments: [(7, 13, 19), (4, 8, 16), (1, 3, 5), (9, 9, 40_000)])
  func transposedRightMatchesReference(rowCount: Int, columnCount: Int, reductionCount: Int) {
    let a = values(rowCount * reductionCount, seed: 1)
    let b = values(columnCount * reductionCount, seed: 2)
    var c = [Float](repeating: .nan, count: rowCount * columnCount)
    c.withUnsafeMutableBufferPointer { c in
      storeProductWithTransposedRight(
        rowCount: rowCount, columnCount: columnCount, reductionCount: reductionCount,
        a: a, aRowStride: reductionCount, b: b, bRowStride: reductionCount,
        c: c.baseAddress!, cRowStride: columnCount)
    }

    for row in 0..<rowCount {
      for column in 0..<columnCount {
        var expected = 0.0
        for k in 0..<reductionCount {
          expected += Double(a[row * reductionCount + k]) * Double(b[column * reductionCount + k])
        }
        let tolerance = 1e-6 * Double(reductionCount)
        #expect(abs(Double(c[row * columnCount + column]) - expected) <= tolerance)
      }
    }
  }

  @Test("product with transposed right is the same for every row and column block")
  func transposedRightIsBlockIndependent() {
    // 40,000 products per element make the kernel split the 9 columns into blocks of 4.
    let rowCount = 9
    let columnCount = 9
    let reductionCount = 40_000
    let a = values(rowCount * reductionCount, seed: 3)
    let b = values(columnCount * reductionCount, seed: 4)
    var whole = [Float](repeating: 0, count: rowCount * columnCount)
    whole.withUnsafeMutableBufferPointer { whole in
      storeProductWithTransposedRight(
        rowCount: rowCount, columnCount: columnCount, reductionCount: reductionCount,
        a: a, aRowStride: reductionCount, b: b, bRowStride: reductionCount,
        c: whole.baseAddress!, cRowStride: columnCount)
    }

    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        for row in 0..<rowCount {
          for column in 0..<columnCount {
            let single = dotProduct(
              a.baseAddress! + row * reductionCount, b.baseAddress! + column * reductionCount,
              count: reductionCount)
            #expect(single.bitPattern == whole[row * columnCount + column].bitPattern)
          }
        }
      }
    }
  }

  @Test(
    "added product matches a double reference in both layouts",
    arguments: [(7, 13, 19), (4, 8, 16), (5, 17, 5_000)])
  func addedProductMatchesReference(rowCount: Int, columnCount: Int, reductionCount: Int) {
    let a = values(rowCount * reductionCount, seed: 5)
    let b = values(reductionCount * columnCount, seed: 6)
    let initial = values(rowCount * columnCount, seed: 7)
    var transposedA = [Float](repeating: 0, count: a.count)
    transposedA.withUnsafeMutableBufferPointer { destination in
      transpose(
        a, rowCount: rowCount, columnCount: reductionCount, into: destination.baseAddress!)
    }

    var direct = initial
    var fromTransposed = initial
    direct.withUnsafeMutableBufferPointer { c in
      addProduct(
        rowCount: rowCount, columnCount: columnCount, reductionCount: reductionCount,
        a: a, aRowStride: reductionCount, aReductionStride: 1, b: b, bRowStride: columnCount,
        c: c.baseAddress!, cRowStride: columnCount)
    }
    fromTransposed.withUnsafeMutableBufferPointer { c in
      addProduct(
        rowCount: rowCount, columnCount: columnCount, reductionCount: reductionCount,
        a: transposedA, aRowStride: 1, aReductionStride: rowCount, b: b,
        bRowStride: columnCount, c: c.baseAddress!, cRowStride: columnCount)
    }

    #expect(direct.map(\.bitPattern) == fromTransposed.map(\.bitPattern))
    for row in 0..<rowCount {
      for column in 0..<columnCount {
        var expected = Double(initial[row * columnCount + column])
        for k in 0..<reductionCount {
          expected += Double(a[row * reductionCount + k]) * Double(b[k * columnCount + column])
        }
        let tolerance = 1e-6 * Double(reductionCount)
        #expect(abs(Double(direct[row * columnCount + column]) - expected) <= tolerance)
      }
    }
  }

  @Test("transpose swaps rows and columns")
  func transposeSwapsRowsAndColumns() {
    let rowCount = 11
    let columnCount = 5
    let source = (0..<(rowCount * columnCount)).map(Float.init)
    var destination = [Float](repeating: -1, count: source.count)
    destination.withUnsafeMutableBufferPointer { destination in
      transpose(
        source, rowCount: rowCount, columnCount: columnCount, into: destination.baseAddress!)
    }

    for row in 0..<rowCount {
      for column in 0..<columnCount {
        #expect(destination[column * rowCount + row] == source[row * columnCount + column])
      }
    }
  }

  @Test("integer power matches repeated multiplication")
  func integerPower() {
    #expect(power(0.9, 0) == 1)
    #expect(power(0.9, 1) == 0.9)
    #expect(power(2, 10) == 1024)
    #expect(abs(power(0.999, 1000) - 0.367_695_424_8) < 1e-9)
    #expect(power(0.9, 100_000) == 0)
  }
}
