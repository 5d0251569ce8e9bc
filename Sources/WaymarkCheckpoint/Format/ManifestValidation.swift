import WaymarkCore

/// The structural rules a decoded manifest must follow before any reader trusts it.
enum ManifestValidation {
  /// Throws `.invalidManifest` naming the first field that breaks a rule.
  static func validate(_ manifest: Manifest) throws {
    let versions = Manifest.supportedFormatVersions
    guard versions.contains(manifest.formatVersion) else {
      throw CheckpointError(
        .unsupportedVersion,
        "manifest format version \(manifest.formatVersion) is not supported; this Waymark reads versions \(versions.lowerBound) to \(versions.upperBound), so upgrade Waymark to read it"
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
    try validatePacks(of: manifest, files: files)
  }

  /// Checks each pack like a chunk, and that the tensors naming it cover its raw bytes
  /// exactly once.
  private static func validatePacks(of manifest: Manifest, files: Set<String>) throws {
    let packedTensors = manifest.tensors.lazy.filter { $0.pack != nil }
    guard manifest.formatVersion >= 2 || (manifest.packs.isEmpty && packedTensors.isEmpty) else {
      throw invalid(
        "format version \(manifest.formatVersion) has no packs, but the manifest uses them; packs need version 2"
      )
    }
    for (index, pack) in manifest.packs.enumerated() {
      try validate(pack, label: "pack \(index)", tensor: nil, index: index, files: files)
      guard pack.rawOffset == 0 else {
        throw invalid("pack \(index) has raw offset \(pack.rawOffset); a pack's is always 0")
      }
    }
    for tensor in packedTensors {
      let location = tensor.pack!
      guard manifest.packs.indices.contains(location.index) else {
        throw invalid(
          "names pack \(location.index), but the manifest has \(manifest.packs.count) packs",
          tensor: tensor.name)
      }
      // Loaded tensors share their pack's memory, so each must start aligned for its dtype.
      guard location.rawOffset % Int64(tensor.dtype.byteWidth) == 0 else {
        throw invalid(
          "raw offset \(location.rawOffset) in pack \(location.index) is not a multiple of the \(tensor.dtype.byteWidth)-byte width of \(tensor.dtype.rawValue)",
          tensor: tensor.name)
      }
    }

    for (index, members) in manifest.packMembers().enumerated() {
      let packByteCount = manifest.packs[index].rawByteCount
      var covered: Int64 = 0
      for member in members.map({ manifest.tensors[$0] }) {
        guard member.pack!.rawOffset == covered else {
          throw invalid(
            "starts at raw offset \(member.pack!.rawOffset) of pack \(index), but the tensors before it end at \(covered); the tensors of a pack must cover it in order without gaps or overlap",
            tensor: member.name)
        }
        guard member.byteCount <= packByteCount - covered else {
          throw invalid(
            "its \(member.byteCount) bytes at raw offset \(covered) run past the end of pack \(index) (\(packByteCount) raw bytes)",
            tensor: member.name)
        }
        covered += member.byteCount
      }
      guard covered == packByteCount else {
        throw invalid(
          "pack \(index) declares \(packByteCount) raw bytes, but its tensors hold \(covered); every byte of a pack belongs to one tensor"
        )
      }
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

    if tensor.pack != nil {
      guard tensor.chunks.isEmpty, tensor.byteCount > 0 else {
        throw invalid(
          tensor.byteCount == 0
            ? "an empty tensor is never packed" : "a packed tensor has no chunks of its own",
          tensor: tensor.name)
      }
      return
    }
    var covered: Int64 = 0
    for (index, chunk) in tensor.chunks.enumerated() {
      try validate(chunk, label: "chunk \(index)", tensor: tensor.name, index: index, files: files)
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

  /// Checks the fields of a chunk or a pack; `label` names it in messages ("chunk 3",
  /// "pack 0").
  private static func validate(
    _ chunk: ChunkEntry, label: String, tensor: String?, index: Int, files: Set<String>
  ) throws {
    let chunkIndex = tensor == nil ? nil : index
    guard files.contains(chunk.file) else {
      throw invalid(
        "\(label) names data file '\(chunk.file)', which no writer lists", tensor: tensor,
        chunk: chunkIndex)
    }
    guard chunk.offset >= 0, chunk.storedByteCount >= 0,
      !chunk.offset.addingReportingOverflow(chunk.storedByteCount).overflow
    else {
      throw invalid(
        "\(label) has offset \(chunk.offset) and stored length \(chunk.storedByteCount); both must be zero or positive",
        tensor: tensor, chunk: chunkIndex)
    }
    guard chunk.storedByteCount <= ChunkCoding.maxStoredByteCount else {
      throw invalid(
        "\(label) declares stored length \(chunk.storedByteCount); it must be at most \(ChunkCoding.maxStoredByteCount), twice the largest raw length",
        tensor: tensor, chunk: chunkIndex)
    }
    guard chunk.rawByteCount > 0, chunk.rawByteCount <= ChunkCoding.maxRawByteCount else {
      throw invalid(
        "\(label) declares raw length \(chunk.rawByteCount); it must be between 1 and \(ChunkCoding.maxRawByteCount)",
        tensor: tensor, chunk: chunkIndex)
    }
    guard chunk.codec != .raw || chunk.storedByteCount == chunk.rawByteCount else {
      throw invalid(
        "raw \(label) stores \(chunk.storedByteCount) bytes but declares \(chunk.rawByteCount)",
        tensor: tensor, chunk: chunkIndex)
    }
    let isLowercaseHex = chunk.checksum.utf8.allSatisfy { byte in
      (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }
    guard chunk.checksum.utf8.count == 16, isLowercaseHex else {
      throw invalid(
        "\(label) checksum '\(chunk.checksum)' is not 16 lowercase hexadecimal digits",
        tensor: tensor, chunk: chunkIndex)
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
