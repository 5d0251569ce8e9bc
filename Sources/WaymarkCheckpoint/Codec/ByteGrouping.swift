/// The byte-grouping transform: for N-byte elements, all byte 0s, then all byte 1s, and so on.
///
/// Lane `j` of a buffer of `n` whole elements contains byte `j` of every element in order. A
/// trailing partial element (when the length is not a multiple of N) is copied unchanged after
/// the lanes. For little-endian floats the last lane contains the sign and the high exponent
/// bits, which compress far better when they sit together.
///
/// The loops read each element once and write every lane in the same pass; one pass per lane
/// would read the source N times.
enum ByteGrouping {
  /// Writes the grouped form of `source` into `destination`, which has the same length.
  static func group(
    _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, width: Int
  ) {
    precondition(source.count == destination.count)
    guard let output = destination.baseAddress, let input = source.baseAddress else { return }
    let elementCount = source.count / width
    let lanes = (0..<width).map { output + $0 * elementCount }
    split(input, elementCount: elementCount, width: width, into: lanes)
    copyTail(of: source, to: destination, start: elementCount * width)
  }

  /// Reverses ``group(_:into:width:)``.
  static func ungroup(
    _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, width: Int
  ) {
    precondition(source.count == destination.count)
    guard let output = destination.baseAddress, let input = source.baseAddress else { return }
    let elementCount = source.count / width
    let lanes = (0..<width).map { UnsafeRawPointer(input + $0 * elementCount) }
    merge(lanes, elementCount: elementCount, width: width, into: output)
    copyTail(of: source, to: destination, start: elementCount * width)
  }

  /// Writes byte `j` of each of the `elementCount` elements at `source` to `lanes[j]`.
  ///
  /// - Parameter lanes: `width` buffers of at least `elementCount` bytes each, which must not
  ///   overlap `source` or each other.
  static func split(
    _ source: UnsafeRawPointer, elementCount: Int, width: Int, into lanes: [UnsafeMutableRawPointer]
  ) {
    precondition(lanes.count == width)
    switch width {
    case 1:
      lanes[0].copyMemory(from: source, byteCount: elementCount)
    case 2:
      split2(source, elementCount, lanes[0], lanes[1])
    case 4:
      split4(source, elementCount, lanes[0], lanes[1], lanes[2], lanes[3])
    case 8:
      split8(source, elementCount, lanes)
    default:
      for lane in 0..<width {
        for element in 0..<elementCount {
          lanes[lane].storeBytes(
            of: source.load(fromByteOffset: element * width + lane, as: UInt8.self),
            toByteOffset: element, as: UInt8.self)
        }
      }
    }
  }

  /// Reverses ``split(_:elementCount:width:into:)``: interleaves `lanes` into `destination`.
  static func merge(
    _ lanes: [UnsafeRawPointer], elementCount: Int, width: Int,
    into destination: UnsafeMutableRawPointer
  ) {
    precondition(lanes.count == width)
    switch width {
    case 1:
      destination.copyMemory(from: lanes[0], byteCount: elementCount)
    case 2:
      merge2(lanes[0], lanes[1], elementCount, destination)
    case 4:
      merge4(lanes[0], lanes[1], lanes[2], lanes[3], elementCount, destination)
    case 8:
      merge8(lanes, elementCount, destination)
    default:
      for lane in 0..<width {
        for element in 0..<elementCount {
          destination.storeBytes(
            of: lanes[lane].load(fromByteOffset: element, as: UInt8.self),
            toByteOffset: element * width + lane, as: UInt8.self)
        }
      }
    }
  }

  private static func split2(
    _ source: UnsafeRawPointer, _ count: Int, _ lane0: UnsafeMutableRawPointer,
    _ lane1: UnsafeMutableRawPointer
  ) {
    // Blocks of 16 elements go through vector registers; the rest one element at a time.
    let blockEnd = count / 16 * 16
    var index = 0
    while index < blockEnd {
      let values = source.loadUnaligned(fromByteOffset: index &* 2, as: SIMD16<UInt16>.self)
      lane0.storeBytes(
        of: SIMD16<UInt8>(truncatingIfNeeded: values), toByteOffset: index, as: SIMD16<UInt8>.self)
      lane1.storeBytes(
        of: SIMD16<UInt8>(truncatingIfNeeded: values &>> 8), toByteOffset: index,
        as: SIMD16<UInt8>.self)
      index &+= 16
    }
    let low = lane0.bindMemory(to: UInt8.self, capacity: count)
    let high = lane1.bindMemory(to: UInt8.self, capacity: count)
    while index < count {
      let value = source.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self)
      low[index] = UInt8(truncatingIfNeeded: value)
      high[index] = UInt8(truncatingIfNeeded: value &>> 8)
      index &+= 1
    }
  }

  private static func merge2(
    _ lane0: UnsafeRawPointer, _ lane1: UnsafeRawPointer, _ count: Int,
    _ destination: UnsafeMutableRawPointer
  ) {
    let blockEnd = count / 16 * 16
    var index = 0
    while index < blockEnd {
      let low = SIMD16<UInt16>(
        truncatingIfNeeded: lane0.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self))
      let high = SIMD16<UInt16>(
        truncatingIfNeeded: lane1.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self))
      destination.storeBytes(
        of: low | high &<< 8, toByteOffset: index &* 2, as: SIMD16<UInt16>.self)
      index &+= 16
    }
    while index < count {
      let value =
        UInt16(lane0.load(fromByteOffset: index, as: UInt8.self))
        | UInt16(lane1.load(fromByteOffset: index, as: UInt8.self)) &<< 8
      destination.storeBytes(of: value, toByteOffset: index &* 2, as: UInt16.self)
      index &+= 1
    }
  }

  private static func split4(
    _ source: UnsafeRawPointer, _ count: Int, _ lane0: UnsafeMutableRawPointer,
    _ lane1: UnsafeMutableRawPointer, _ lane2: UnsafeMutableRawPointer,
    _ lane3: UnsafeMutableRawPointer
  ) {
    let blockEnd = count / 16 * 16
    var index = 0
    while index < blockEnd {
      let values = source.loadUnaligned(fromByteOffset: index &* 4, as: SIMD16<UInt32>.self)
      lane0.storeBytes(
        of: SIMD16<UInt8>(truncatingIfNeeded: values), toByteOffset: index, as: SIMD16<UInt8>.self)
      lane1.storeBytes(
        of: SIMD16<UInt8>(truncatingIfNeeded: values &>> 8), toByteOffset: index,
        as: SIMD16<UInt8>.self)
      lane2.storeBytes(
        of: SIMD16<UInt8>(truncatingIfNeeded: values &>> 16), toByteOffset: index,
        as: SIMD16<UInt8>.self)
      lane3.storeBytes(
        of: SIMD16<UInt8>(truncatingIfNeeded: values &>> 24), toByteOffset: index,
        as: SIMD16<UInt8>.self)
      index &+= 16
    }
    let out0 = lane0.bindMemory(to: UInt8.self, capacity: count)
    let out1 = lane1.bindMemory(to: UInt8.self, capacity: count)
    let out2 = lane2.bindMemory(to: UInt8.self, capacity: count)
    let out3 = lane3.bindMemory(to: UInt8.self, capacity: count)
    while index < count {
      let value = source.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self)
      out0[index] = UInt8(truncatingIfNeeded: value)
      out1[index] = UInt8(truncatingIfNeeded: value &>> 8)
      out2[index] = UInt8(truncatingIfNeeded: value &>> 16)
      out3[index] = UInt8(truncatingIfNeeded: value &>> 24)
      index &+= 1
    }
  }

  private static func merge4(
    _ lane0: UnsafeRawPointer, _ lane1: UnsafeRawPointer, _ lane2: UnsafeRawPointer,
    _ lane3: UnsafeRawPointer, _ count: Int, _ destination: UnsafeMutableRawPointer
  ) {
    let blockEnd = count / 16 * 16
    var index = 0
    while index < blockEnd {
      let byte0 = SIMD16<UInt32>(
        truncatingIfNeeded: lane0.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self))
      let byte1 = SIMD16<UInt32>(
        truncatingIfNeeded: lane1.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self))
      let byte2 = SIMD16<UInt32>(
        truncatingIfNeeded: lane2.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self))
      let byte3 = SIMD16<UInt32>(
        truncatingIfNeeded: lane3.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self))
      destination.storeBytes(
        of: byte0 | byte1 &<< 8 | byte2 &<< 16 | byte3 &<< 24, toByteOffset: index &* 4,
        as: SIMD16<UInt32>.self)
      index &+= 16
    }
    while index < count {
      let value =
        UInt32(lane0.load(fromByteOffset: index, as: UInt8.self))
        | UInt32(lane1.load(fromByteOffset: index, as: UInt8.self)) &<< 8
        | UInt32(lane2.load(fromByteOffset: index, as: UInt8.self)) &<< 16
        | UInt32(lane3.load(fromByteOffset: index, as: UInt8.self)) &<< 24
      destination.storeBytes(of: value, toByteOffset: index &* 4, as: UInt32.self)
      index &+= 1
    }
  }

  private static func split8(
    _ source: UnsafeRawPointer, _ count: Int, _ lanes: [UnsafeMutableRawPointer]
  ) {
    let outputs = lanes.map { $0.bindMemory(to: UInt8.self, capacity: count) }
    let (out0, out1, out2, out3) = (outputs[0], outputs[1], outputs[2], outputs[3])
    let (out4, out5, out6, out7) = (outputs[4], outputs[5], outputs[6], outputs[7])
    for index in 0..<count {
      let value = source.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self)
      out0[index] = UInt8(truncatingIfNeeded: value)
      out1[index] = UInt8(truncatingIfNeeded: value &>> 8)
      out2[index] = UInt8(truncatingIfNeeded: value &>> 16)
      out3[index] = UInt8(truncatingIfNeeded: value &>> 24)
      out4[index] = UInt8(truncatingIfNeeded: value &>> 32)
      out5[index] = UInt8(truncatingIfNeeded: value &>> 40)
      out6[index] = UInt8(truncatingIfNeeded: value &>> 48)
      out7[index] = UInt8(truncatingIfNeeded: value &>> 56)
    }
  }

  private static func merge8(
    _ lanes: [UnsafeRawPointer], _ count: Int, _ destination: UnsafeMutableRawPointer
  ) {
    let (in0, in1, in2, in3) = (lanes[0], lanes[1], lanes[2], lanes[3])
    let (in4, in5, in6, in7) = (lanes[4], lanes[5], lanes[6], lanes[7])
    for index in 0..<count {
      let low =
        UInt64(in0.load(fromByteOffset: index, as: UInt8.self))
        | UInt64(in1.load(fromByteOffset: index, as: UInt8.self)) &<< 8
        | UInt64(in2.load(fromByteOffset: index, as: UInt8.self)) &<< 16
        | UInt64(in3.load(fromByteOffset: index, as: UInt8.self)) &<< 24
      let high =
        UInt64(in4.load(fromByteOffset: index, as: UInt8.self)) &<< 32
        | UInt64(in5.load(fromByteOffset: index, as: UInt8.self)) &<< 40
        | UInt64(in6.load(fromByteOffset: index, as: UInt8.self)) &<< 48
        | UInt64(in7.load(fromByteOffset: index, as: UInt8.self)) &<< 56
      destination.storeBytes(of: low | high, toByteOffset: index &* 8, as: UInt64.self)
    }
  }

  private static func copyTail(
    of source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawBufferPointer, start: Int
  ) {
    guard start < source.count else { return }
    UnsafeMutableRawBufferPointer(rebasing: destination[start...])
      .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start...]))
  }
}
