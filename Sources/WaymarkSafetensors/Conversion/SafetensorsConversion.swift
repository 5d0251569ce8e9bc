import Foundation
public import WaymarkCheckpoint
public import WaymarkCore

/// Converts between Waymark checkpoints and safetensors files.
///
/// A safetensors file contains tensors and string metadata only, so an export stores the step
/// and the checkpoint's extra state as JSON text under the keys ``stepMetadataKey`` and
/// ``extraStateMetadataKey``, and an import restores the extra state from there. Metrics and
/// the other manifest fields are not exported.
public enum SafetensorsConversion {
  /// Metadata key of the training step of an exported checkpoint, as decimal text.
  public static let stepMetadataKey = "waymark.step"

  /// Metadata key of an exported checkpoint's extra state, as JSON text.
  public static let extraStateMetadataKey = "waymark.extra_state"

  /// Writes tensors of the checkpoint directory at `checkpointPath` to a new safetensors
  /// file at `path`.
  ///
  /// Every chunk's checksum is checked while the checkpoint is read. The file is written
  /// atomically and fsynced as ``SafetensorsFile/write(to:replacingExisting:fileSystem:)``
  /// describes.
  ///
  /// - Parameters:
  ///   - checkpointPath: A committed checkpoint directory, such as `checkpoints/step-000000001200`.
  ///   - path: The safetensors file to create.
  ///   - tensorNames: The tensors to export; default `nil` exports all of them.
  ///   - metadata: More `__metadata__` strings to write, such as `["format": "pt"]`; the
  ///     Waymark keys replace entries with the same names.
  ///   - replacingExisting: Whether to replace an existing file at `path`; default `false`.
  ///   - reader: The checkpoint reader; default one on the real file system.
  ///   - fileSystem: The file system to write through; default the real one.
  ///   - pool: The threads that run the blocking write; default the shared pool.
  /// - Returns: A summary of the written file.
  /// - Throws: ``CheckpointError`` from reading the checkpoint, `.notFound` naming a tensor
  ///   in `tensorNames` that the checkpoint lacks, or an error from writing the file.
  /// - Note: The whole checkpoint is loaded even when `tensorNames` selects a few tensors.
  public static func exportCheckpoint(
    at checkpointPath: String, to path: String, tensorNames: [String]? = nil,
    metadata: [String: String] = [:], replacingExisting: Bool = false,
    reader: CheckpointReader = CheckpointReader(), fileSystem: any FileSystem = PosixFileSystem(),
    pool: BlockingThreadPool = .shared
  ) async throws -> SafetensorsSummary {
    let checkpoint = try await reader.load(checkpointAt: checkpointPath)
    let file = try safetensorsFile(
      from: checkpoint.state, step: checkpoint.step, tensorNames: tensorNames, metadata: metadata,
      checkpointPath: checkpointPath)
    return try await pool.run {
      try file.write(to: path, replacingExisting: replacingExisting, fileSystem: fileSystem)
      return try SafetensorsSummary(inspectingFileAt: path, fileSystem: fileSystem)
    }
  }

  /// Reads the safetensors file at `path` and saves its tensors as the checkpoint of `step`
  /// through `manager`.
  ///
  /// The extra state comes from ``extraStateMetadataKey`` when the file has it. Otherwise it
  /// is the metadata strings, less ``stepMetadataKey``, as a JSON object, or `null` when no
  /// strings remain.
  ///
  /// - Parameters:
  ///   - path: The safetensors file to import.
  ///   - manager: The manager of the store to save into.
  ///   - step: The step to save the checkpoint as; it must not be committed already.
  ///   - metrics: Metric values to record in the manifest; default none.
  ///   - fileSystem: The file system to read through; default the real one.
  ///   - pool: The threads that run the blocking read; default the shared pool.
  /// - Returns: The committed checkpoint, after its directory and the store are fsynced.
  /// - Throws: ``CheckpointError`` from reading the file, `.invalidSafetensors` when the
  ///   extra-state metadata is not JSON, or what ``CheckpointManager/save(step:state:metrics:)``
  ///   and ``CheckpointManager/waitForCommit(of:)`` throw.
  @discardableResult
  public static func importFile(
    at path: String, into manager: CheckpointManager, step: Int64,
    metrics: [String: Double] = [:], fileSystem: any FileSystem = PosixFileSystem(),
    pool: BlockingThreadPool = .shared
  ) async throws -> CommittedCheckpoint {
    let file = try await pool.run {
      try SafetensorsFile(contentsOfFile: path, fileSystem: fileSystem)
    }
    let state = try trainingState(from: file, path: path)
    let ticket = try await manager.save(step: step, state: state, metrics: metrics)
    return try await manager.waitForCommit(of: ticket)
  }

  /// Returns the safetensors contents of `state`: the selected tensors, `metadata`, and the
  /// step and extra state under the Waymark keys.
  ///
  /// - Throws: ``CheckpointError`` with `.notFound` naming a tensor in `tensorNames` that
  ///   `state` lacks, or `.invalidArgument` when the extra state cannot be encoded as JSON.
  public static func safetensorsFile(
    from state: TrainingState, step: Int64?, tensorNames: [String]? = nil,
    metadata: [String: String] = [:], checkpointPath: String? = nil
  ) throws -> SafetensorsFile {
    var tensors = state.tensors
    if let tensorNames {
      tensors = [:]
      for name in tensorNames {
        guard let tensor = state.tensors[name] else {
          let location = checkpointPath.map { " at '\($0)'" } ?? ""
          throw CheckpointError(
            .notFound,
            "tensor \(name.debugDescription) is not in the checkpoint\(location); `waymark inspect` lists its tensors",
            path: checkpointPath, tensor: name)
        }
        tensors[name] = tensor
      }
    }

    var allMetadata = metadata
    if let step {
      allMetadata[stepMetadataKey] = String(step)
    }
    if state.extraState != .null {
      let json: Data
      do {
        json = try JSONCoding.encoder().encode(state.extraState)
      } catch {
        throw CheckpointError(
          .invalidArgument, "the extra state cannot be encoded as JSON", path: checkpointPath,
          underlying: error)
      }
      allMetadata[extraStateMetadataKey] = String(decoding: json, as: UTF8.self)
    }
    return SafetensorsFile(tensors: tensors, metadata: allMetadata)
  }

  /// Returns the training state that `file` holds: its tensors, and extra state from its
  /// metadata as ``importFile(at:into:step:metrics:fileSystem:pool:)`` describes.
  ///
  /// - Throws: ``CheckpointError`` with `.invalidSafetensors` when the extra-state metadata
  ///   is not valid JSON.
  public static func trainingState(from file: SafetensorsFile, path: String? = nil) throws
    -> TrainingState
  {
    let extraState: JSONValue
    if let text = file.metadata[extraStateMetadataKey] {
      do {
        extraState = try JSONCoding.decoder().decode(JSONValue.self, from: Data(text.utf8))
      } catch {
        throw SafetensorsFailure.invalid(
          path: path, field: SafetensorsFailure.metadataField(extraStateMetadataKey),
          "is not valid JSON",
          fix: "remove the key or store the extra state as JSON text")
      }
    } else {
      let strings = file.metadata.filter { $0.key != stepMetadataKey }
      extraState = strings.isEmpty ? .null : .object(strings.mapValues { .string($0) })
    }
    return TrainingState(tensors: file.tensors, extraState: extraState)
  }
}
