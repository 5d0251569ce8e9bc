// Single-threaded float32 matrix kernels for the demo's model.
//
// Every output element is computed by the same sequence of operations whichever block or
// tail path reaches it, and each sum runs in a fixed order, so results are reproducible bit
// for bit. The kernels never call `addingProduct`, and Swift does not fuse a separate
// multiply and add, so every operation rounds on its own on every target.

/// Eight float lanes: two SSE registers on x86-64, two NEON registers on arm64.
typealias FloatVector = SIMD8<Float>

@inline(__always)
func loadVector(_ pointer: UnsafePointer<Float>) -> FloatVector {
  UnsafeRawPointer(pointer).loadUnaligned(as: FloatVector.self)
}

@inline(__always)
func storeVector(_ vector: FloatVector, to pointer: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: FloatVector.self)
}

/// Adds a matrix product to `c`: `c[i, j] += sum over k of a(i, k) * b[k, j]`.
///
/// `a(i, k)` is `a[i * aRowStride + k * aReductionStride]`, so the same kernel computes
/// `A * B` (strides `K` and 1) and `transpose(A) * B` (strides 1 and the row length of A).
/// `b` and `c` are row-major with row strides `bRowStride` and `cRowStride`. Each element
/// adds its products in ascending `k`.
///
/// Blocks of four rows by eight columns stay in registers while `k` runs over a slice of
/// the reduction. The slices are sized so that the part of `a` they read stays in the
/// cache while every column block reuses it. Splitting the reduction stores and reloads the
/// partial sums, so each element still adds its products in ascending `k`.
func addProduct(
  rowCount: Int, columnCount: Int, reductionCount: Int,
  a: UnsafePointer<Float>, aRowStride: Int, aReductionStride: Int,
  b: UnsafePointer<Float>, bRowStride: Int,
  c: UnsafeMutablePointer<Float>, cRowStride: Int
) {
  let sliceLength = max(8, cacheBlockElementCount / max(rowCount, 1))
  var sliceStart = 0
  while sliceStart < reductionCount {
    let sliceEnd = min(sliceStart + sliceLength, reductionCount)
    addProductSlice(
      rowCount: rowCount, columnCount: columnCount, reductionCount: sliceEnd - sliceStart,
      a: a + sliceStart * aReductionStride, aRowStride: aRowStride,
      aReductionStride: aReductionStride,
      b: b + sliceStart * bRowStride, bRowStride: bRowStride,
      c: c, cRowStride: cRowStride)
    sliceStart = sliceEnd
  }
}

/// Elements of a matrix block meant to stay in the level-2 cache alongside the other
/// operands: 32,768 floats, 128 KiB, well under the 256 KiB or more of current x86-64 and
/// arm64 cores.
private let cacheBlockElementCount = 32_768

/// Adds the product over one slice of the reduction; see ``addProduct``.
private func addProductSlice(
  rowCount: Int, columnCount: Int, reductionCount: Int,
  a: UnsafePointer<Float>, aRowStride: Int, aReductionStride: Int,
  b: UnsafePointer<Float>, bRowStride: Int,
  c: UnsafeMutablePointer<Float>, cRowStride: Int
) {
  var column = 0
  while column + FloatVector.scalarCount <= columnCount {
    var row = 0
    while row + 4 <= rowCount {
      let c0 = c + row * cRowStride + column
      let c1 = c0 + cRowStride
      let c2 = c1 + cRowStride
      let c3 = c2 + cRowStride
      var sum0 = loadVector(c0)
      var sum1 = loadVector(c1)
      var sum2 = loadVector(c2)
      var sum3 = loadVector(c3)
      var a0 = a + row * aRowStride
      var bRow = b + column
      for _ in 0..<reductionCount {
        let bVector = loadVector(bRow)
        sum0 += bVector * a0[0]
        sum1 += bVector * a0[aRowStride]
        sum2 += bVector * a0[2 * aRowStride]
        sum3 += bVector * a0[3 * aRowStride]
        a0 += aReductionStride
        bRow += bRowStride
      }
      storeVector(sum0, to: c0)
      storeVector(sum1, to: c1)
      storeVector(sum2, to: c2)
      storeVector(sum3, to: c3)
      row += 4
    }
    while row < rowCount {
      let c0 = c + row * cRowStride + column
      var sum0 = loadVector(c0)
      var a0 = a + row * aRowStride
      var bRow = b + column
      for _ in 0..<reductionCount {
        sum0 += loadVector(bRow) * a0[0]
        a0 += aReductionStride
        bRow += bRowStride
      }
      storeVector(sum0, to: c0)
      row += 1
    }
    column += FloatVector.scalarCount
  }

  // Columns left over after the last full vector, one element at a time.
  for tailColumn in column..<columnCount {
    for row in 0..<rowCount {
      var sum = c[row * cRowStride + tailColumn]
      var a0 = a + row * aRowStride
      var bElement = b + tailColumn
      for _ in 0..<reductionCount {
        sum += bElement[0] * a0[0]
        a0 += aReductionStride
        bElement += bRowStride
      }
      c[row * cRowStride + tailColumn] = sum
    }
  }
}

/// Stores a product with a transposed right operand in `c`:
/// `c[i, j] = sum over k of a[i, k] * b[j, k]`.
///
/// All three matrices are row-major with the given row strides. Each element is a dot
/// product of two contiguous rows, summed in the order of ``dotProduct(_:_:count:)``.
/// The rows of `b` are taken in blocks small enough to stay in the cache while every row
/// of `a` passes over them.
func storeProductWithTransposedRight(
  rowCount: Int, columnCount: Int, reductionCount: Int,
  a: UnsafePointer<Float>, aRowStride: Int,
  b: UnsafePointer<Float>, bRowStride: Int,
  c: UnsafeMutablePointer<Float>, cRowStride: Int
) {
  let blockColumnCount = max(4, cacheBlockElementCount / max(reductionCount, 1))
  var blockStart = 0
  while blockStart < columnCount {
    let blockEnd = min(blockStart + blockColumnCount, columnCount)
    storeProductBlock(
      rowCount: rowCount, columnCount: blockEnd - blockStart, reductionCount: reductionCount,
      a: a, aRowStride: aRowStride,
      b: b + blockStart * bRowStride, bRowStride: bRowStride,
      c: c + blockStart, cRowStride: cRowStride)
    blockStart = blockEnd
  }
}

/// Stores the product for one block of the rows of `b`; see
/// ``storeProductWithTransposedRight``.
private func storeProductBlock(
  rowCount: Int, columnCount: Int, reductionCount: Int,
  a: UnsafePointer<Float>, aRowStride: Int,
  b: UnsafePointer<Float>, bRowStride: Int,
  c: UnsafeMutablePointer<Float>, cRowStride: Int
) {
  let vectorEnd = reductionCount - reductionCount % FloatVector.scalarCount
  var row = 0
  while row + 4 <= rowCount {
    let a0 = a + row * aRowStride
    let a1 = a0 + aRowStride
    let a2 = a1 + aRowStride
    let a3 = a2 + aRowStride
    for column in 0..<columnCount {
      let bRow = b + column * bRowStride
      var sum0 = FloatVector()
      var sum1 = FloatVector()
      var sum2 = FloatVector()
      var sum3 = FloatVector()
      var k = 0
      while k < vectorEnd {
        let bVector = loadVector(bRow + k)
        sum0 += loadVector(a0 + k) * bVector
        sum1 += loadVector(a1 + k) * bVector
        sum2 += loadVector(a2 + k) * bVector
        sum3 += loadVector(a3 + k) * bVector
        k += FloatVector.scalarCount
      }
      var total0 = horizontalSum(sum0)
      var total1 = horizontalSum(sum1)
      var total2 = horizontalSum(sum2)
      var total3 = horizontalSum(sum3)
      while k < reductionCount {
        total0 += a0[k] * bRow[k]
        total1 += a1[k] * bRow[k]
        total2 += a2[k] * bRow[k]
        total3 += a3[k] * bRow[k]
        k += 1
      }
      let cRow = c + row * cRowStride + column
      cRow[0] = total0
      cRow[cRowStride] = total1
      cRow[2 * cRowStride] = total2
      cRow[3 * cRowStride] = total3
    }
    row += 4
  }
  while row < rowCount {
    for column in 0..<columnCount {
      c[row * cRowStride + column] = dotProduct(
        a + row * aRowStride, b + column * bRowStride, count: reductionCount)
    }
    row += 1
  }
}

/// Returns the dot product of two contiguous vectors.
///
/// Lane `l` of an eight-lane accumulator sums the products at indices `l`, `l + 8`, …; the
/// lanes are then added pairwise (``horizontalSum(_:)``) and the leftover products are added
/// in ascending index.
@inline(__always)
func dotProduct(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
  let vectorEnd = count - count % FloatVector.scalarCount
  var sum = FloatVector()
  var index = 0
  while index < vectorEnd {
    sum += loadVector(x + index) * loadVector(y + index)
    index += FloatVector.scalarCount
  }
  var total = horizontalSum(sum)
  while index < count {
    total += x[index] * y[index]
    index += 1
  }
  return total
}

/// Adds the lanes in a fixed tree: halves, then quarters, then the last pair.
@inline(__always)
func horizontalSum(_ vector: FloatVector) -> Float {
  let half = vector.lowHalf + vector.highHalf
  let quarter = half.lowHalf + half.highHalf
  return quarter[0] + quarter[1]
}

/// Stores the sum of each row of a row-major matrix in `sums`, adding in column order.
func storeRowSums(
  of matrix: UnsafePointer<Float>, rowCount: Int, columnCount: Int,
  into sums: UnsafeMutablePointer<Float>
) {
  for row in 0..<rowCount {
    let source = matrix + row * columnCount
    var total: Float = 0
    for column in 0..<columnCount {
      total += source[column]
    }
    sums[row] = total
  }
}

/// Writes the transpose of a row-major `rowCount × columnCount` matrix to `destination`.
///
/// Works in 8 × 8 tiles so that both matrices are read and written a cache line at a time.
func transpose(
  _ source: UnsafePointer<Float>, rowCount: Int, columnCount: Int,
  into destination: UnsafeMutablePointer<Float>
) {
  let tile = 8
  var rowStart = 0
  while rowStart < rowCount {
    let rowEnd = min(rowStart + tile, rowCount)
    var columnStart = 0
    while columnStart < columnCount {
      let columnEnd = min(columnStart + tile, columnCount)
      for row in rowStart..<rowEnd {
        for column in columnStart..<columnEnd {
          destination[column * rowCount + row] = source[row * columnCount + column]
        }
      }
      columnStart = columnEnd
    }
    rowStart = rowEnd
  }
}

/// Replaces the elements of a contiguous row by `transform` applied to eight at a time.
///
/// The last group may be partial: its missing lanes are filled with zero and their results
/// discarded, so every element goes through the same vector arithmetic.
@inline(__always)
func applyToRow(
  _ row: UnsafeMutablePointer<Float>, count: Int, _ transform: (FloatVector) -> FloatVector
) {
  var index = 0
  while index + FloatVector.scalarCount <= count {
    storeVector(transform(loadVector(row + index)), to: row + index)
    index += FloatVector.scalarCount
  }
  guard index < count else { return }
  var lanes = FloatVector()
  for lane in 0..<(count - index) {
    lanes[lane] = row[index + lane]
  }
  let result = transform(lanes)
  for lane in 0..<(count - index) {
    row[index + lane] = result[lane]
  }
}
