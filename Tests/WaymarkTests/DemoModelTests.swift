import Foundation
import Testing
import WaymarkCheckpoint

@testable import WaymarkDemo

/// Text with a short repeating pattern, so a tiny model learns it in a few hundred steps.
let demoRepetitiveText = String(
  repeating: "the cat sat on the mat. the dog sat on the log. ", count: 20)

/// Creates a model small enough that a test trains it in milliseconds.
func makeTinyDemoModel(
  seed: UInt64 = 7, hiddenWidth: Int = 16, batchSize: Int = 8, learningRate: Double = 0.01,
  text: String = demoRepetitiveText
) throws -> CharLanguageModel {
  let corpus = try TextCorpus(text: text)
  let configuration = DemoModelConfiguration(
    contextLength: 4, embeddingWidth: 6, hiddenWidth: hiddenWidth, batchSize: batchSize,
    learningRate: learningRate, seed: seed, validationWindowLimit: 64)
  return try CharLanguageModel(corpus: corpus, configuration: configuration)
}

@Suite("CharLanguageModel")
struct DemoModelTests {
  // Hidden width 13 and the vocabulary's 14 symbols leave partial vectors, so the kernels'
  // scalar tails are checked too. A batch of 7 computes the input gradient with the
  // broadcasting kernel and a batch of 64 with the transposed weight.
  @Test("backward pass matches finite differences", arguments: [7, 64])
  func gradientMatchesFiniteDifferences(batchSize: Int) throws {
    let model = try makeTinyDemoModel(hiddenWidth: 13, batchSize: batchSize)
    #expect(model.vocabularySize % 8 != 0)
    let targetCount = model.corpus.validationStartIndex - 4
    let positions = (0..<batchSize).map { 4 + ($0 * 37) % targetCount }

    let analytic = positions.withUnsafeBufferPointer { positions in
      _ = model.computeLossAndGradients(positions: positions)
      return Array(model.scratch.gradients)
    }
    func loss() -> Double {
      positions.withUnsafeBufferPointer { positions in
        model.parameters.withUnsafeBufferPointer { parameters in
          model.forward(parameters: parameters, positions: positions)
        }
        return model.softmaxCrossEntropy(positions: positions, computingGradient: false)
          / Double(positions.count)
      }
    }

    // Central differences in float32: a step of 0.01 keeps the rounding error of the loss
    // difference near 1e-5 while the truncation error, of order delta², stays below 1e-4.
    let delta: Float = 1e-2
    var mismatches: [String] = []
    var checkedCount = 0
    for entry in model.layout.entries {
      for index in entry.range {
        let original = model.parameters[index]
        model.parameters[index] = original + delta
        let lossAbove = loss()
        model.parameters[index] = original - delta
        let lossBelow = loss()
        model.parameters[index] = original

        let numeric = (lossAbove - lossBelow) / Double(2 * delta)
        if abs(numeric - Double(analytic[index])) > 1e-4 + 0.01 * abs(numeric) {
          mismatches.append(
            "\(entry.name)[\(index - entry.offset)]: analytic \(analytic[index]), numeric \(numeric)"
          )
        }
        checkedCount += 1
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) gradients differ: \(mismatches.prefix(5))")
    #expect(checkedCount == model.parameterCount)
  }

  @Test("loss falls on repetitive text")
  func lossFallsOnRepetitiveText() throws {
    let model = try makeTinyDemoModel()
    let initialLoss = model.validationLoss()
    var lastTrainingLoss: Float = 0
    for _ in 0..<400 {
      lastTrainingLoss = model.trainStep()
    }
    let finalLoss = model.validationLoss()

    #expect(abs(initialLoss - log(Double(model.vocabularySize))) < 0.5)
    #expect(finalLoss < 0.5, "validation loss \(initialLoss) -> \(finalLoss)")
    #expect(lastTrainingLoss < 0.5)
    #expect(model.step == 400)
  }

  @Test("training is reproducible from the seed")
  func trainingIsReproducible() throws {
    let first = try makeTinyDemoModel()
    let second = try makeTinyDemoModel()
    var firstLosses: [Float] = []
    var secondLosses: [Float] = []
    for _ in 0..<20 {
      firstLosses.append(first.trainStep())
      secondLosses.append(second.trainStep())
    }

    #expect(firstLosses.map(\.bitPattern) == secondLosses.map(\.bitPattern))
    #expect(try first.trainingState() == second.trainingState())
  }

  @Test("different seeds give different parameters")
  func seedsDiffer() throws {
    let first = try makeTinyDemoModel(seed: 1)
    let second = try makeTinyDemoModel(seed: 2)

    #expect(try first.trainingState().tensors != second.trainingState().tensors)
  }

  @Test("validation loss leaves the model unchanged")
  func validationLossIsPure() throws {
    let model = try makeTinyDemoModel()
    model.trainStep()
    let before = try model.trainingState()
    let firstLoss = model.validationLoss()
    let secondLoss = model.validationLoss()

    #expect(firstLoss.bitPattern == secondLoss.bitPattern)
    #expect(try model.trainingState() == before)
  }

  @Test("validation windows are capped and spread out")
  func validationWindowsAreCapped() throws {
    let model = try makeTinyDemoModel()
    let validationStart = model.corpus.validationStartIndex

    #expect(model.validationWindowCount == 64)
    #expect(model.validationPositions.first == validationStart)
    #expect(model.validationPositions.allSatisfy { $0 >= validationStart })
    #expect(model.validationPositions.last! > model.corpus.byteCount - 3)
  }

  @Test(
    "invalid configuration is rejected",
    arguments: [
      DemoModelConfiguration(contextLength: 0),
      DemoModelConfiguration(embeddingWidth: -1),
      DemoModelConfiguration(batchSize: 0),
      DemoModelConfiguration(learningRate: 0),
      DemoModelConfiguration(learningRate: .nan),
      DemoModelConfiguration(validationWindowLimit: 0),
      DemoModelConfiguration(hiddenWidth: 1 << 40),
    ])
  func invalidConfigurationIsRejected(configuration: DemoModelConfiguration) throws {
    let corpus = try TextCorpus(text: demoRepetitiveText)
    let error = try #require(throws: DemoError.self) {
      try CharLanguageModel(corpus: corpus, configuration: configuration)
    }
    #expect(error.code == .invalidConfiguration)
  }

  @Test("context longer than training text is rejected")
  func contextLongerThanTextIsRejected() throws {
    let corpus = try TextCorpus(text: "abcdefghijklmnopqrst")
    let configuration = DemoModelConfiguration(contextLength: 18)
    let error = try #require(throws: DemoError.self) {
      try CharLanguageModel(corpus: corpus, configuration: configuration)
    }
    #expect(error.code == .corpusTooSmall)
    #expect(error.message.contains("18"))
  }

  @Test("preset state sizes match their documentation", arguments: DemoModelSize.allCases)
  func presetStateSizes(size: DemoModelSize) throws {
    let expectedByteCounts: [DemoModelSize: Int] = [
      .small: 2_984_064, .medium: 10_667_136, .large: 52_790_400, .huge: 412_337_280,
    ]
    let byteCount = size.configuration.stateByteCount(vocabularySize: 96)
    #expect(byteCount == expectedByteCounts[size])
    try size.configuration.validate(vocabularySize: 256)
  }

  @Test("model state size matches the configuration's")
  func modelStateSizeMatchesConfiguration() throws {
    let corpus = try TextCorpus(text: demoRepetitiveText)
    let configuration = DemoModelSize.small.configuration
    let model = try CharLanguageModel(corpus: corpus, configuration: configuration)

    #expect(
      model.stateByteCount == configuration.stateByteCount(vocabularySize: corpus.vocabularySize))
    #expect(try model.trainingState().byteCount == model.stateByteCount)
  }
}
