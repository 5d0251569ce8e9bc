/// The sizes and training settings of the demo's character-level language model.
///
/// The model embeds each of the previous ``contextLength`` tokens in ``embeddingWidth``
/// floats, concatenates the embeddings, applies one `tanh` hidden layer of ``hiddenWidth``
/// units and an output layer over the vocabulary, and trains with Adam on softmax
/// cross-entropy. The default values are the ``DemoModelSize/small`` preset.
public struct DemoModelConfiguration: Codable, Sendable, Hashable {
  /// Number of previous tokens the model predicts from. Defaults to 16.
  public var contextLength: Int
  /// Floats per token embedding. Defaults to 24.
  public var embeddingWidth: Int
  /// Units in the hidden layer. Defaults to 512.
  public var hiddenWidth: Int
  /// Training windows per step. Defaults to 512.
  public var batchSize: Int
  /// Adam's step size. Defaults to 0.003.
  public var learningRate: Double
  /// Seed of the generator that initialises the parameters and samples batches. Defaults to 1.
  public var seed: UInt64
  /// Maximum number of windows ``CharLanguageModel/validationLoss()`` evaluates. Longer
  /// validation text is sampled at evenly spaced positions. Defaults to 8,192.
  public var validationWindowLimit: Int

  /// Creates a configuration; the defaults are the ``DemoModelSize/small`` preset.
  public init(
    contextLength: Int = 16, embeddingWidth: Int = 24, hiddenWidth: Int = 512,
    batchSize: Int = 512, learningRate: Double = 0.003, seed: UInt64 = 1,
    validationWindowLimit: Int = 8192
  ) {
    self.contextLength = contextLength
    self.embeddingWidth = embeddingWidth
    self.hiddenWidth = hiddenWidth
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.seed = seed
    self.validationWindowLimit = validationWindowLimit
  }

  /// Returns the number of trainable parameters for a vocabulary of `vocabularySize` symbols.
  ///
  /// That is `V·E + k·E·H + H + H·V + V` for vocabulary size `V`, context length `k`,
  /// embedding width `E` and hidden width `H`.
  public func parameterCount(vocabularySize: Int) -> Int {
    let inputWidth = contextLength * embeddingWidth
    return vocabularySize * embeddingWidth + inputWidth * hiddenWidth + hiddenWidth
      + hiddenWidth * vocabularySize + vocabularySize
  }

  /// Returns the bytes of the tensors in a training state: parameters plus Adam's two moment
  /// estimates, all float32, so 12 bytes per parameter.
  public func stateByteCount(vocabularySize: Int) -> Int {
    3 * MemoryLayout<Float>.size * parameterCount(vocabularySize: vocabularySize)
  }

  /// Checks that every value is in range for a vocabulary of `vocabularySize` symbols.
  ///
  /// - Throws: ``DemoError`` with code `.invalidConfiguration`, naming the field.
  public func validate(vocabularySize: Int) throws {
    let positiveFields: [(String, Int)] = [
      ("contextLength", contextLength), ("embeddingWidth", embeddingWidth),
      ("hiddenWidth", hiddenWidth), ("batchSize", batchSize),
      ("validationWindowLimit", validationWindowLimit),
    ]
    for (name, value) in positiveFields where value < 1 {
      throw DemoError(
        .invalidConfiguration, "\(name) is \(value); it must be at least 1")
    }
    guard learningRate.isFinite, learningRate > 0 else {
      throw DemoError(
        .invalidConfiguration, "learningRate is \(learningRate); it must be a positive number")
    }
    // One billion parameters is 12 GB of training state, far past any demo, and keeps every
    // size product below Int.max.
    let limit = 1 << 30
    let factors = [
      contextLength, embeddingWidth, hiddenWidth, batchSize, vocabularySize,
      validationWindowLimit,
    ]
    guard factors.allSatisfy({ $0 <= limit }),
      contextLength * embeddingWidth <= limit,
      parameterCount(vocabularySize: vocabularySize) <= limit,
      batchSize * max(contextLength * embeddingWidth, hiddenWidth, vocabularySize) <= limit
    else {
      throw DemoError(
        .invalidConfiguration,
        "the model is too large: \(self) gives more than \(limit) parameters or batch values; choose smaller widths"
      )
    }
  }
}

/// Size presets of the demo model, from quick to one that makes large checkpoints.
///
/// The state sizes below count parameters plus Adam's two moments at 4 bytes each, for a
/// vocabulary of 96 symbols, about what Swift and Markdown source text has.
/// ``DemoModelConfiguration/stateByteCount(vocabularySize:)`` gives them for other
/// vocabularies.
/// Wider layers get smaller learning rates because Adam moves every weight by about the
/// learning rate each step, so a unit's input changes in proportion to its fan-in.
public enum DemoModelSize: String, CaseIterable, Codable, Sendable {
  /// Context 16, embedding 24, hidden 512, batch 512, learning rate 0.003: 248,672
  /// parameters, a 3.0 MB state.
  case small
  /// Context 24, embedding 32, hidden 1,024, batch 256, learning rate 0.0015: 888,928
  /// parameters, a 10.7 MB state.
  case medium
  /// Context 32, embedding 64, hidden 2,048, batch 128, learning rate 0.0005, 4,096
  /// validation windows: 4,399,200 parameters, a 52.8 MB state.
  case large
  /// Context 32, embedding 128, hidden 8,192, batch 32, learning rate 0.0001, 1,024
  /// validation windows: 34,361,440 parameters, a 412 MB state.
  case huge

  /// The configuration of this preset, with the default seed.
  public var configuration: DemoModelConfiguration {
    switch self {
    case .small:
      DemoModelConfiguration()
    case .medium:
      DemoModelConfiguration(
        contextLength: 24, embeddingWidth: 32, hiddenWidth: 1024, batchSize: 256,
        learningRate: 0.0015)
    case .large:
      DemoModelConfiguration(
        contextLength: 32, embeddingWidth: 64, hiddenWidth: 2048, batchSize: 128,
        learningRate: 0.0005, validationWindowLimit: 4096)
    case .huge:
      DemoModelConfiguration(
        contextLength: 32, embeddingWidth: 128, hiddenWidth: 8192, batchSize: 32,
        learningRate: 0.0001, validationWindowLimit: 1024)
    }
  }
}
