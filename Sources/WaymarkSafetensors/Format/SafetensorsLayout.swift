import WaymarkCheckpoint

/// The rules that tie a header's tensor entries to the data section: sizes, ranges and
/// coverage.
enum SafetensorsLayout {
  /// Checks each entry's shape and range, then that the ranges cover the data section in
  /// order, and returns the entries sorted by data offset.
  ///
  /// Ranges must tile the data section exactly: sorted by offset, each begins where the
  /// previous one ends, the first at 0 and the last at `dataByteCount`. The reference
  /// implementation applies the same rule, so an empty tensor placed inside another tensor's
  /// range counts as an overlap.
  ///
  /// - Throws: ``CheckpointError`` with code `.invalidSafetensors` naming the tensor field.
  static func validate(
    _ entries: [SafetensorsHeaderParser.Entry], dataByteCount: Int, path: String?
  ) throws -> [SafetensorsTensorInfo] {
    var tensors: [SafetensorsTensorInfo] = []
    tensors.reserveCapacity(entries.count)
    for entry in entries {
      tensors.append(try validate(entry, dataByteCount: dataByteCount, path: path))
    }

    tensors.sort { left, right in
      if left.dataOffsets.lowerBound != right.dataOffsets.lowerBound {
        return left.dataOffsets.lowerBound < right.dataOffsets.lowerBound
      }
      if left.dataOffsets.upperBound != right.dataOffsets.upperBound {
        return left.dataOffsets.upperBound < right.dataOffsets.upperBound
      }
      return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
    }

    var covered = 0
    var previous: SafetensorsTensorInfo?
    for tensor in tensors {
      let field = SafetensorsFailure.tensorField(tensor.name, "data_offsets")
      let range = describe(tensor.dataOffsets)
      if tensor.dataOffsets.lowerBound < covered, let previous {
        throw SafetensorsFailure.invalid(
          path: path, field: field,
          "\(range) overlaps \(SafetensorsFailure.tensorField(previous.name, "data_offsets")) \(describe(previous.dataOffsets))",
          tensor: tensor.name)
      }
      if tensor.dataOffsets.lowerBound > covered {
        let after =
          previous.map { "after \(SafetensorsFailure.tensorField($0.name))" }
          ?? "at the start of the data section"
        throw SafetensorsFailure.invalid(
          path: path, field: field,
          "\(range) leaves a gap: bytes \(covered)..<\(tensor.dataOffsets.lowerBound) \(after) belong to no tensor",
          tensor: tensor.name)
      }
      covered = tensor.dataOffsets.upperBound
      previous = tensor
    }
    guard covered == dataByteCount else {
      throw SafetensorsFailure.invalid(
        path: path, field: "data section",
        "holds \(dataByteCount) bytes but the tensors cover only the first \(covered), so bytes \(covered)..<\(dataByteCount) belong to no tensor"
      )
    }
    return tensors
  }

  /// Checks one entry's byte count and range against its shape, its dtype and the data
  /// section.
  private static func validate(
    _ entry: SafetensorsHeaderParser.Entry, dataByteCount: Int, path: String?
  ) throws -> SafetensorsTensorInfo {
    let byteCount = try byteCount(of: entry, path: path)
    let field = SafetensorsFailure.tensorField(entry.name, "data_offsets")
    let declared = "[\(entry.begin), \(entry.end)]"

    guard entry.begin <= entry.end else {
      throw SafetensorsFailure.invalid(
        path: path, field: field, "\(declared) ends before it begins", tensor: entry.name)
    }
    guard entry.end <= UInt64(dataByteCount) else {
      throw SafetensorsFailure.invalid(
        path: path, field: field,
        "\(declared) reaches past the end of the data section, which holds \(dataByteCount) bytes",
        fix: "if the file was cut short, copy it again; otherwise \(SafetensorsFailure.rewriteFix)",
        tensor: entry.name)
    }
    // Both offsets are at most dataByteCount, an Int, so these conversions are exact.
    let range = Int(entry.begin)..<Int(entry.end)
    guard range.count == byteCount else {
      throw SafetensorsFailure.invalid(
        path: path, field: field,
        "\(declared) spans \(range.count) bytes, but shape \(entry.shape) of \(entry.dtype.safetensorsName) needs \(byteCount)",
        tensor: entry.name)
    }
    return SafetensorsTensorInfo(
      name: entry.name, dtype: entry.dtype, shape: entry.shape, dataOffsets: range)
  }

  /// Returns the product of the shape times the dtype's width, rejecting overflow.
  private static func byteCount(of entry: SafetensorsHeaderParser.Entry, path: String?) throws
    -> Int
  {
    var count = entry.dtype.byteWidth
    for dimension in entry.shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard !overflow else {
        throw SafetensorsFailure.invalid(
          path: path, field: SafetensorsFailure.tensorField(entry.name, "shape"),
          "\(entry.shape) of \(entry.dtype.safetensorsName) has more bytes than Int can count",
          tensor: entry.name)
      }
      count = product
    }
    return count
  }

  private static func describe(_ range: Range<Int>) -> String {
    "[\(range.lowerBound), \(range.upperBound)]"
  }
}
