/// The byte-grouping transform: for N-byte elements, all byte 0s, then all byte 1s, and so on.
///
/// A trailing partial element (when the length is not a multiple of N) is copied unchanged
/// after the groups.
enum ByteGrouping {
  /// Writes the grouped form of `source` into `destination`, which has the same length.
  static func group(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, width: Int) {
    precondition(source.count == destination.count)
    let elementCount = source.count / width
    let input = source.bindMemory(to: UInt8.self)
    let output = destination.bindMemory(to: UInt8.self)
    for lane in 0..<width {
      let base = lane * elementCount
      var index = lane
      for element in 0..<elementCount {
        output[base + element] = input[index]
        index += width
      }
    }
    copyTail(from: input, to: output, start: elementCount * width)
  }

  /// Reverses ``group(_:into:width:)``.
  static func ungroup(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, width: Int) {
    precondition(source.count == destination.count)
    let elementCount = source.count / width
    let input = source.bindMemory(to: UInt8.self)
    let output = destination.bindMemory(to: UInt8.self)
    for lane in 0..<width {
      let base = lane * elementCount
      var index = lane
      for element in 0..<elementCount {
        output[index] = input[base + element]
        index += width
      }
    }
    copyTail(from: input, to: output, start: elementCount * width)
  }

  private static func copyTail(from input: UnsafeBufferPointer<UInt8>, to output: UnsafeMutableBufferPointer<UInt8>, start: Int) {
    var index = start
    while index < input.count {
      output[index] = input[index]
      index += 1
    }
  }
}
