import WaymarkCore

/// The structural rules a decoded manifest must follow before any reader trusts it.
enum ManifestValidation {
  /// Throws `.invalidManifest` naming the first field that breaks a rule.
  static func validate(_ manifest: Manifest) throws {
    guard manifest.formatVersion == Manifest.currentFormatVersion else {
      throw CheckpointError(
        .unsupportedVersion,
        "manifest format version \(manifest.formatVersion) is not supported; this Waymark reads version \(Manifest.currentFormatVersion), so upgrade Waymark to read it"
      )
    }
    guard manifest.step >= 0 else {
      throw invalid("step is \(manifest.step); steps are zero or positive")
    }
    guard manifest.wallTime.isFinite else {
      throw invalid("wallTime is \(manifest.wallTime); it must be a finite number of seconds")
    }

    var files = Set<String>()
    for writer in manifest.writers {
      guard writer.rank >= 0, writer.worldSize > writer.rank else {
        throw invalid("writer rank \(writer.rank) is outside world size \(writer.worldSize)")
      }
      for file in writer.files {
        try validateFileName(file)
        guard files.insert(file).inserted else {
          throw invalid("data file '\(file)' is listed by more than one writer")
        }
      }
    }

    var names = Set<String>()
    for tensor in manifest.tensors {
      do {
        try TensorName.validate(tensor.name)
      } catch let error as CheckpointError {
        throw invalid("tensors[].name: \(error.message)", tensor: tensor.name)
      }
      guard names.insert(tensor.name).inserted else {
        throw invalid("tensor '\(tensor.name)' appears twice", tensor: tensor.name)
      }
      try validate(tensor, files: files)
    }
  }

  private static func validate(_ tensor: TensorEntry, files: Set<String>) throws {
    let elementCount: Int
    do {
      elementCount = try Tensor.elementCount(of: tensor.shape)
    } catch let error as CheckpointError {
      throw invalid("shape: \(error.message)", tensor: tensor.name)
    }
    let (expected, overflow) = elementCount.multipliedReportingOverflow(by: tensor.dtype.byteWidth)
    guard !overflow, Int64(expected) == tensor.byteCount else {
      throw invalid(
        "byteCount is \(tensor.byteCount) but shape \(tensor.shape) of \(tensor.dtype.rawValue) needs \(overflow ? "more than Int.max" : String(expected))",
        tensor: tensor.name)
    }

    var covered: Int64 = 0
    for (index, chunk) in tensor.chunks.enumerated() {
      try validate(chunk, index: index, tensor: tensor.name, files: files)
      guard chunk.rawOffset == covered else {
        throw invalid(
          "chunk \(index) starts at raw offset \(chunk.rawOffset) but the previous chunks end at \(covered); chunks must cover the tensor in order without gaps or overlap",
          tensor: tensor.name, chunk: index)
      }
      covered += chunk.rawByteCount
      guard covered <= tensor.byteCount else {
        throw invalid(
          "chunks hold more than the tensor's \(tensor.byteCount) bytes", tensor: tensor.name,
          chunk: index)
      }
    }
    guard covered == tensor.byteCount else {
      throw invalid(
        "chunks cover \(covered) of the tensor's \(tensor.byteCount) bytes", tensor: tensor.name)
    }
  }

  private static func validate(_ chunk: ChunkEntry, index: Int, tensor: String, files: Set<String>)
    throws
  {
    guard files.contains(chunk.file) else {
      throw invalid(
        "chunk \(index) names data file '\(chunk.file)', which no writer lists", tensor: tensor,
        chunk: index)
    }
    guard chunk.offset >= 0, chunk.storedByteCount >= 0,
      !chunk.offset.addingReportingOverflow(chunk.storedByteCount).overflow
    else {
      throw invalid(
        "chunk \(index) has offset \(chunk.offset) and stored length \(chunk.storedByteCount); both must be zero or positive",
        tensor: tensor, chunk: index)
    }
    guard chunk.rawByteCount > 0, chunk.rawByteCount <= ChunkCoding.maxRawByteCount else {
      throw invalid(
        "chunk \(index) declares raw length \(chunk.rawByteCount); it must be between 1 and \(ChunkCoding.maxRawByteCount)",
        tensor: tensor, chunk: index)
    }
    guard chunk.codec != .raw || chunk.storedByteCount == chunk.rawByteCount else {
      throw invalid(
        "raw chunk \(index) stores \(chunk.storedByteCount) bytes but declares \(chunk.rawByteCount)",
        tensor: tensor, chunk: index)
    }
    guard XXH3.parseHex(chunk.checksum) != nil else {
      throw invalid(
        "chunk \(index) checksum '\(chunk.checksum)' is not 16 hexadecimal digits", tensor: tensor,
        chunk: index)
    }
  }

  /// Throws unless `name` is a plain file name: letters, digits, `.`, `_` and `-`, not
  /// starting with a dot, at most 255 bytes.
  static func validateFileName(_ name: String) throws {
    let allowed = name.utf8.allSatisfy { byte in
      (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        || byte == 0x2E || byte == 0x5F || byte == 0x2D
    }
    guard allowed, !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix(".") else {
      throw invalid(
        "data file name \(name.debugDescription) is not a plain file name inside the checkpoint; only letters, digits, '.', '_' and '-' are allowed, not starting with '.'"
      )
    }
  }

  private static func invalid(_ message: String, tensor: String? = nil, chunk: Int? = nil)
    -> CheckpointError
  {
    // Messages about one tensor name it, so that a manifest of thousands of tensors points
    // at the one to look at.
    let subject = tensor.map { message.contains("'\($0)'") ? "" : "tensor '\($0)': " } ?? ""
    return CheckpointError(
      .invalidManifest, "invalid manifest: \(subject)\(message)", tensor: tensor, chunk: chunk)
  }
}
