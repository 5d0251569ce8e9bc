import Testing
import WaymarkCheckpoint
import WaymarkCore
import WaymarkSafetensors

@Suite("SafetensorsConversion")
struct SafetensorsConversionTests {
  /// Saves `state` at `step` into a new store under `directory` and returns the checkpoint.
  private func saveCheckpoint(_ state: TrainingState, step: Int64, in directory: String)
    async throws
    -> CommittedCheckpoint
  {
    let manager = try await CheckpointManager(directory: directory)
    let ticket = try await manager.save(step: step, state: state)
    let committed = try await manager.waitForCommit(of: ticket)
    try await manager.close()
    return committed
  }

  @Test("export then import round-trips")
  func exportAndImport() async throws {
    try await withTemporaryDirectory { root in
      let state = TrainingState(
        tensors: try sampleTensors(), extraState: ["epoch": 3, "lr": 0.5, "name": "run"])
      let committed = try await saveCheckpoint(state, step: 5, in: root + "/source")

      let path = root + "/export.safetensors"
      let summary = try await SafetensorsConversion.exportCheckpoint(
        at: committed.path, to: path, metadata: ["format": "pt"])
      #expect(summary.tensors.count == state.tensors.count)
      #expect(summary.metadata["format"] == "pt")
      #expect(summary.metadata[SafetensorsConversion.stepMetadataKey] == "5")

      let file = try SafetensorsFile(contentsOfFile: path)
      #expect(file.tensors == state.tensors)

      let manager = try await CheckpointManager(directory: root + "/target")
      let imported = try await SafetensorsConversion.importFile(at: path, into: manager, step: 9)
      #expect(imported.step == 9)
      let loaded = try await manager.load(step: 9)
      try await manager.close()
      #expect(loaded.state == state)
    }
  }

  @Test("export of selected tensors")
  func exportSubset() async throws {
    try await withTemporaryDirectory { root in
      let state = TrainingState(tensors: try sampleTensors())
      let committed = try await saveCheckpoint(state, step: 1, in: root + "/store")

      let path = root + "/subset.safetensors"
      let summary = try await SafetensorsConversion.exportCheckpoint(
        at: committed.path, to: path, tensorNames: ["f32", "bf16"])
      #expect(summary.tensors.map(\.name) == ["bf16", "f32"])
      #expect(summary.metadata[SafetensorsConversion.extraStateMetadataKey] == nil)

      let error = await #expect(throws: CheckpointError.self) {
        try await SafetensorsConversion.exportCheckpoint(
          at: committed.path, to: root + "/missing.safetensors", tensorNames: ["absent"])
      }
      #expect(error?.code == .notFound)
      #expect(error?.tensor == "absent")
    }
  }

  @Test("plain metadata becomes the extra state")
  func plainMetadata() throws {
    let file = SafetensorsFile(
      tensors: ["w": Tensor(scalar: Float(1))],
      metadata: ["format": "pt", SafetensorsConversion.stepMetadataKey: "4"])
    let state = try SafetensorsConversion.trainingState(from: file)
    #expect(state.extraState == ["format": "pt"])
    #expect(try SafetensorsConversion.trainingState(from: SafetensorsFile()).extraState == .null)
  }

  @Test("invalid extra state JSON rejected")
  func invalidExtraState() throws {
    let file = SafetensorsFile(metadata: [SafetensorsConversion.extraStateMetadataKey: "{not json"])
    let error = try #require(throws: CheckpointError.self) {
      try SafetensorsConversion.trainingState(from: file, path: "x.safetensors")
    }
    #expect(error.code == .invalidSafetensors)
    #expect(error.message.contains(#"__metadata__["waymark.extra_state"]"#))
  }
}
