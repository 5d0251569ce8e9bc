import Testing
import WaymarkCheckpoint
import WaymarkCore
import WaymarkDemo

@Suite("CharLanguageModel training state")
struct DemoTrainingStateTests {
  @Test("restored state continues bit-identically")
  func restoredStateContinuesIdentically() throws {
    let straight = try makeTinyDemoModel()
    for _ in 0..<12 {
      straight.trainStep()
    }

    let interrupted = try makeTinyDemoModel()
    for _ in 0..<7 {
      interrupted.trainStep()
    }
    let saved = try interrupted.trainingState()
    // A different seed gives different initial parameters and generator state, so the
    // match below shows that restore replaced all of them.
    let resumed = try makeTinyDemoModel(seed: 99)
    try resumed.restore(from: saved)
    #expect(resumed.step == 7)
    for _ in 0..<5 {
      resumed.trainStep()
    }

    let straightState = try straight.trainingState()
    let resumedState = try resumed.trainingState()
    #expect(resumed.step == straight.step)
    #expect(resumedState.tensors == straightState.tensors)
    #expect(resumedState.extraState["random"] == straightState.extraState["random"])
    #expect(resumedState.extraState["adam"] == straightState.extraState["adam"])
    #expect(resumed.validationLoss().bitPattern == straight.validationLoss().bitPattern)
  }

  @Test("state lists every tensor and field")
  func stateContents() throws {
    let model = try makeTinyDemoModel()
    model.trainStep()
    let state = try model.trainingState()
    let vocabularySize = model.vocabularySize

    let expectedShapes: [String: [Int]] = [
      "embedding.weight": [vocabularySize, 6],
      "hidden.weight": [16, 24],
      "hidden.bias": [16],
      "output.weight": [vocabularySize, 16],
      "output.bias": [vocabularySize],
    ]
    #expect(state.tensors.count == 3 * expectedShapes.count)
    for (name, shape) in expectedShapes {
      for prefix in ["", "adam.m.", "adam.v."] {
        let tensor = try #require(state.tensors[prefix + name])
        #expect(tensor.shape == shape, "\(prefix + name)")
        #expect(tensor.dtype == .float32, "\(prefix + name)")
      }
    }
    #expect(state.byteCount == model.stateByteCount)
    #expect(state.extraState["format"] == .string(CharLanguageModel.stateFormat))
    #expect(state.extraState["step"]?.intValue == 1)
    #expect(state.extraState["adam"]?["step"]?.intValue == 1)
    #expect(
      state.extraState["vocabulary"] == .array(model.corpus.vocabulary.map { .int(Int64($0)) }))
    #expect(try CharLanguageModel.configuration(of: state) == model.configuration)
  }

  @Test("state shares the parameter arrays")
  func stateSharesParameterArrays() throws {
    let model = try makeTinyDemoModel()
    let first = try model.trainingState()
    let second = try model.trainingState()
    for (name, tensor) in first.tensors {
      let firstAddress = tensor.withUnsafeBytes { $0.baseAddress }
      let secondAddress = try #require(second.tensors[name]).withUnsafeBytes { $0.baseAddress }
      #expect(firstAddress == secondAddress, "\(name)")
    }
  }

  @Test("training after a snapshot leaves the snapshot unchanged")
  func snapshotSurvivesTraining() throws {
    let model = try makeTinyDemoModel()
    let state = try model.trainingState()
    let bytesBefore = state.tensors.mapValues(\.bytes)
    for _ in 0..<3 {
      model.trainStep()
    }

    #expect(state.tensors.mapValues(\.bytes) == bytesBefore)
    #expect(try model.trainingState().tensors != state.tensors)
  }

  @Test("restore rejects a tensor of another shape")
  func restoreRejectsShapeMismatch() throws {
    let state = try makeTinyDemoModel(hiddenWidth: 16).trainingState()
    let model = try makeTinyDemoModel(hiddenWidth: 24)

    let error = try expectIncompatibleState(restoring: state, into: model)
    #expect(error.tensor == "hidden.weight")
    #expect(error.message.contains("'hidden.weight'"))
    #expect(error.message.contains("[16, 24]"))
    #expect(error.message.contains("[24, 24]"))
  }

  @Test("restore rejects a missing tensor")
  func restoreRejectsMissingTensor() throws {
    var state = try makeTinyDemoModel().trainingState()
    state.tensors["adam.v.output.bias"] = nil

    let error = try expectIncompatibleState(restoring: state, into: makeTinyDemoModel())
    #expect(error.tensor == "adam.v.output.bias")
    #expect(error.message.contains("no tensor 'adam.v.output.bias'"))
  }

  @Test("restore rejects a tensor of another dtype")
  func restoreRejectsDTypeMismatch() throws {
    let model = try makeTinyDemoModel()
    var state = try model.trainingState()
    let bias = try #require(state.tensors["hidden.bias"])
    state.tensors["hidden.bias"] = try Tensor(
      [Double](repeating: 0, count: bias.elementCount), shape: bias.shape)

    let error = try expectIncompatibleState(restoring: state, into: model)
    #expect(error.tensor == "hidden.bias")
    #expect(error.message.contains("f64"))
  }

  @Test("restore rejects another vocabulary")
  func restoreRejectsVocabularyMismatch() throws {
    let state = try makeTinyDemoModel().trainingState()
    let model = try makeTinyDemoModel(text: demoRepetitiveText.uppercased())

    let error = try expectIncompatibleState(restoring: state, into: model)
    #expect(error.message.contains("vocabulary"))
  }

  @Test(
    "restore rejects malformed extra state",
    arguments: [
      ("format", JSONValue.string("other")),
      ("formatVersion", JSONValue.int(2)),
      ("step", JSONValue.int(-1)),
      ("random", JSONValue.object(["state": [0, 0, 0, 0]])),
      ("random", JSONValue.object(["state": [1, 2, 3]])),
    ])
  func restoreRejectsMalformedExtraState(field: String, value: JSONValue) throws {
    let model = try makeTinyDemoModel()
    var state = try model.trainingState()
    guard case .object(var members) = state.extraState else {
      Issue.record("extra state is not an object")
      return
    }
    members[field] = value
    state.extraState = .object(members)

    let error = try expectIncompatibleState(restoring: state, into: model)
    #expect(error.message.contains(field))
  }

  /// Restores `state` into `model`, expects an `.incompatibleState` error, and checks that
  /// the model did not change.
  private func expectIncompatibleState(
    restoring state: TrainingState, into model: CharLanguageModel,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> DemoError {
    model.trainStep()
    let before = try model.trainingState()
    let error = try #require(throws: DemoError.self, sourceLocation: sourceLocation) {
      try model.restore(from: state)
    }
    #expect(error.code == .incompatibleState, sourceLocation: sourceLocation)
    #expect(try model.trainingState() == before, sourceLocation: sourceLocation)
    return error
  }
}
