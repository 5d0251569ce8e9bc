/// A character-level language model in plain Swift: token embeddings, one `tanh` hidden
/// layer and a softmax output, trained with Adam on a ``TextCorpus``.
///
/// The model predicts each byte token from the ``DemoModelConfiguration/contextLength``
/// tokens before it. A seeded ``Xoshiro256StarStar`` generator initialises the parameters
/// and samples the training windows, and all arithmetic runs on the calling thread in a
/// fixed order. So training `k` steps, saving ``trainingState()``, restoring it into a new
/// model and training `n` more steps gives bit-identical parameters to training `k + n`
/// steps straight.
///
/// The class is not thread-safe: call it from one thread or task at a time.
///
/// - Note: Training calls no C library math function: `exp` and `tanh` are the package's
///   own vector code and Adam's bias correction uses integer powers. Only the reported loss
///   uses the C library's `log`, so its last bits may vary between platforms.
public final class CharLanguageModel {
  /// Adam's decay rate for the first moment estimate.
  public static let adamBeta1 = 0.9
  /// Adam's decay rate for the second moment estimate.
  public static let adamBeta2 = 0.999
  /// Adam's term added to the denominator for numerical stability.
  public static let adamEpsilon = 1e-8

  /// The sizes and training settings.
  public let configuration: DemoModelConfiguration
  /// The text the model trains and validates on.
  public let corpus: TextCorpus
  /// Number of completed training steps.
  public internal(set) var step = 0

  let layout: ParameterLayout
  /// All parameters, flat, in the order of ``layout``.
  var parameters: [Float]
  /// Adam's first moment estimates, in the layout of ``parameters``.
  var firstMoments: [Float]
  /// Adam's second moment estimates, in the layout of ``parameters``.
  var secondMoments: [Float]
  /// Number of Adam updates applied, the exponent in its bias correction.
  var adamStep = 0
  var random: Xoshiro256StarStar
  /// Target positions in ``TextCorpus/tokens`` that ``validationLoss()`` evaluates.
  let validationPositions: [Int]
  let scratch: Scratch

  /// Creates a model with freshly initialised parameters.
  ///
  /// Embeddings are uniform in [-1, 1), each weight matrix is uniform in ±sqrt(6 /
  /// (fan-in + fan-out)), the output weights are scaled by a further 0.5, and biases start
  /// at zero.
  ///
  /// - Throws: ``DemoError`` with code `.invalidConfiguration` for an out-of-range
  ///   configuration and `.corpusTooSmall` when the corpus has no more training tokens than
  ///   the context length.
  public init(corpus: TextCorpus, configuration: DemoModelConfiguration = DemoModelConfiguration())
    throws
  {
    try configuration.validate(vocabularySize: corpus.vocabularySize)
    guard corpus.validationStartIndex > configuration.contextLength else {
      throw DemoError(
        .corpusTooSmall,
        "the corpus has \(corpus.trainingByteCount) training bytes, not more than the context length \(configuration.contextLength); add text or shorten the context"
      )
    }

    let layout = ParameterLayout(
      vocabularySize: corpus.vocabularySize, contextLength: configuration.contextLength,
      embeddingWidth: configuration.embeddingWidth, hiddenWidth: configuration.hiddenWidth)
    self.configuration = configuration
    self.corpus = corpus
    self.layout = layout
    self.parameters = [Float](repeating: 0, count: layout.paddedCount)
    self.firstMoments = [Float](repeating: 0, count: layout.paddedCount)
    self.secondMoments = [Float](repeating: 0, count: layout.paddedCount)
    self.random = Xoshiro256StarStar(seed: configuration.seed)
    self.validationPositions = Self.validationPositions(
      in: corpus, limit: configuration.validationWindowLimit)
    self.scratch = Scratch(
      rowCount: configuration.batchSize, layout: layout,
      inputWidth: configuration.contextLength * configuration.embeddingWidth)
    initialiseParameters()
  }

  /// Number of symbols in the vocabulary.
  public var vocabularySize: Int { corpus.vocabularySize }

  /// Number of trainable parameters.
  public var parameterCount: Int { layout.parameterCount }

  /// Bytes of the tensors in ``trainingState()``: 12 per parameter.
  public var stateByteCount: Int { 3 * MemoryLayout<Float>.size * layout.parameterCount }

  /// Number of windows ``validationLoss()`` evaluates.
  public var validationWindowCount: Int { validationPositions.count }

  /// Trains one step: samples a batch of windows, computes the loss and its gradient, and
  /// applies one Adam update.
  ///
  /// - Returns: The batch's mean cross-entropy in nats, before the update.
  /// - Complexity: O(batchSize · (k·E·H + H·V) + parameterCount).
  @discardableResult
  public func trainStep() -> Float {
    let positions = scratch.positions
    let firstTarget = configuration.contextLength
    let targetCount = corpus.validationStartIndex - firstTarget
    for row in 0..<configuration.batchSize {
      positions[row] = firstTarget + random.nextIndex(below: targetCount)
    }
    let lossSum = computeLossAndGradients(
      positions: UnsafeBufferPointer(positions))
    applyAdamUpdate()
    step += 1
    return Float(lossSum / Double(configuration.batchSize))
  }

  /// Returns the mean cross-entropy in nats over the fixed validation windows.
  ///
  /// The windows are all validation targets, or ``DemoModelConfiguration/validationWindowLimit``
  /// of them at evenly spaced positions when there are more. The result depends only on the
  /// parameters: it consumes no random numbers and does not change the model.
  ///
  /// - Complexity: O(windows · (k·E·H + H·V)), about a third of a training step per batch
  ///   of windows.
  public func validationLoss() -> Double {
    var lossSum = 0.0
    var start = 0
    validationPositions.withUnsafeBufferPointer { allPositions in
      while start < allPositions.count {
        let end = min(start + configuration.batchSize, allPositions.count)
        let batch = UnsafeBufferPointer(rebasing: allPositions[start..<end])
        parameters.withUnsafeBufferPointer { parameters in
          forward(parameters: parameters, positions: batch)
        }
        lossSum += softmaxCrossEntropy(positions: batch, computingGradient: false)
        start = end
      }
    }
    return lossSum / Double(validationPositions.count)
  }

  // MARK: - Optimizer

  /// Applies one Adam update with bias correction to every parameter, from
  /// `scratch.gradients`.
  func applyAdamUpdate() {
    adamStep += 1
    let beta1 = Float(Self.adamBeta1)
    let beta2 = Float(Self.adamBeta2)
    let firstCorrection = 1 - power(Self.adamBeta1, adamStep)
    let secondCorrection = 1 - power(Self.adamBeta2, adamStep)
    let stepSize = FloatVector(repeating: Float(configuration.learningRate / firstCorrection))
    let inverseSecondCorrectionRoot = FloatVector(
      repeating: Float(1 / secondCorrection.squareRoot()))
    let epsilon = FloatVector(repeating: Float(Self.adamEpsilon))
    let gradients = UnsafePointer(scratch.gradients.baseAddress!)
    let count = layout.paddedCount

    parameters.withUnsafeMutableBufferPointer { parameters in
      firstMoments.withUnsafeMutableBufferPointer { firstMoments in
        secondMoments.withUnsafeMutableBufferPointer { secondMoments in
          let parameter = parameters.baseAddress!
          let first = firstMoments.baseAddress!
          let second = secondMoments.baseAddress!
          // The padded count is a multiple of the vector width, so no tail loop is needed.
          var index = 0
          while index < count {
            let gradient = loadVector(gradients + index)
            let m = loadVector(first + index) * beta1 + gradient * (1 - beta1)
            let v = loadVector(second + index) * beta2 + gradient * gradient * (1 - beta2)
            let denominator = v.squareRoot() * inverseSecondCorrectionRoot + epsilon
            let updated = loadVector(parameter + index) - stepSize * m / denominator
            storeVector(m, to: first + index)
            storeVector(v, to: second + index)
            storeVector(updated, to: parameter + index)
            index += FloatVector.scalarCount
          }
        }
      }
    }
  }

  // MARK: - Set-up

  /// Fills the parameters from ``random`` in layout order.
  private func initialiseParameters() {
    let vocabularySize = Float(corpus.vocabularySize)
    let inputWidth = Float(configuration.contextLength * configuration.embeddingWidth)
    let hiddenWidth = Float(configuration.hiddenWidth)
    let hiddenBound = (6 / (inputWidth + hiddenWidth)).squareRoot()
    let outputBound = 0.5 * (6 / (hiddenWidth + vocabularySize)).squareRoot()
    let bounds: [(ParameterLayout.Entry, Float)] = [
      (layout.embedding, 1), (layout.hiddenWeight, hiddenBound), (layout.outputWeight, outputBound),
    ]
    parameters.withUnsafeMutableBufferPointer { parameters in
      for (entry, bound) in bounds {
        for index in entry.range {
          parameters[index] = bound * random.nextSignedUnitFloat()
        }
      }
    }
  }

  /// Returns all validation target positions, or `limit` of them evenly spaced.
  private static func validationPositions(in corpus: TextCorpus, limit: Int) -> [Int] {
    let start = corpus.validationStartIndex
    let count = corpus.byteCount - start
    guard count > limit else { return Array(start..<corpus.byteCount) }
    return (0..<limit).map { start + $0 * count / limit }
  }
}

/// Returns `base` raised to a non-negative integer power by repeated squaring, which, unlike
/// the C library's `pow`, gives the same bits on every platform.
func power(_ base: Double, _ exponent: Int) -> Double {
  var result = 1.0
  var factor = base
  var remaining = exponent
  while remaining > 0 {
    if remaining & 1 == 1 { result *= factor }
    factor *= factor
    remaining >>= 1
  }
  return result
}

extension CharLanguageModel {
  /// Buffers reused by every step, allocated once so that training allocates nothing.
  final class Scratch {
    let gradients: UnsafeMutableBufferPointer<Float>
    let positions: UnsafeMutableBufferPointer<Int>
    let inputs: UnsafeMutableBufferPointer<Float>
    let hidden: UnsafeMutableBufferPointer<Float>
    let logits: UnsafeMutableBufferPointer<Float>
    let hiddenGradients: UnsafeMutableBufferPointer<Float>
    let inputGradients: UnsafeMutableBufferPointer<Float>
    /// An activation matrix transposed to `[width, rowCount]`.
    let transposed: UnsafeMutableBufferPointer<Float>
    /// A gradient matrix transposed to `[width, rowCount]`.
    let transposedGradients: UnsafeMutableBufferPointer<Float>
    /// The hidden weight transposed to `[inputWidth, hiddenWidth]`, or `nil` when the batch
    /// is too small to repay transposing it every step.
    let transposedHiddenWeight: UnsafeMutableBufferPointer<Float>?

    /// The smallest batch for which the input gradient is computed from a transposed copy
    /// of the hidden weight. On x86-64 with SSE2, dot products over contiguous rows ran
    /// about 1.4 times as fast as the broadcasting kernel. The transpose is one pass over
    /// the weight per step, so a batch of 64 rows should repay it (an estimate, not tuned).
    static let transposedWeightMinimumRowCount = 64

    init(rowCount: Int, layout: ParameterLayout, inputWidth: Int) {
      let hiddenWidth = layout.hiddenBias.count
      let vocabularySize = layout.outputBias.count
      func allocate<Element>(_ count: Int, _ value: Element) -> UnsafeMutableBufferPointer<Element>
      {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: count)
        buffer.initialize(repeating: value)
        return buffer
      }
      gradients = allocate(layout.paddedCount, 0)
      positions = allocate(rowCount, 0)
      inputs = allocate(rowCount * inputWidth, 0)
      hidden = allocate(rowCount * hiddenWidth, 0)
      logits = allocate(rowCount * vocabularySize, 0)
      hiddenGradients = allocate(rowCount * hiddenWidth, 0)
      inputGradients = allocate(rowCount * inputWidth, 0)
      let widest = max(inputWidth, hiddenWidth, vocabularySize)
      transposed = allocate(rowCount * widest, 0)
      transposedGradients = allocate(rowCount * widest, 0)
      transposedHiddenWeight =
        rowCount >= Self.transposedWeightMinimumRowCount
        ? allocate(inputWidth * hiddenWidth, 0) : nil
    }

    deinit {
      gradients.deallocate()
      positions.deallocate()
      inputs.deallocate()
      hidden.deallocate()
      logits.deallocate()
      hiddenGradients.deallocate()
      inputGradients.deallocate()
      transposed.deallocate()
      transposedGradients.deallocate()
      transposedHiddenWeight?.deallocate()
    }
  }
}
