#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension CharLanguageModel {
  /// Computes the summed loss over `positions` and stores its gradient, divided by the
  /// number of positions, in `scratch.gradients`.
  func computeLossAndGradients(positions: UnsafeBufferPointer<Int>) -> Double {
    parameters.withUnsafeBufferPointer { parameters in
      forward(parameters: parameters, positions: positions)
      let lossSum = softmaxCrossEntropy(positions: positions, computingGradient: true)
      backward(parameters: parameters, positions: positions)
      return lossSum
    }
  }

  /// Fills `scratch.inputs`, `scratch.hidden` (after `tanh`) and `scratch.logits` for one
  /// row per position.
  func forward(parameters: UnsafeBufferPointer<Float>, positions: UnsafeBufferPointer<Int>) {
    let rowCount = positions.count
    let contextLength = configuration.contextLength
    let embeddingWidth = configuration.embeddingWidth
    let inputWidth = contextLength * embeddingWidth
    let hiddenWidth = configuration.hiddenWidth
    let vocabularySize = corpus.vocabularySize
    let base = parameters.baseAddress!
    let inputs = scratch.inputs.baseAddress!
    let hidden = scratch.hidden.baseAddress!
    let logits = scratch.logits.baseAddress!

    // Each row is the concatenated embeddings of the tokens before its position.
    corpus.tokens.withUnsafeBufferPointer { tokens in
      for row in 0..<rowCount {
        let firstToken = positions[row] - contextLength
        for slot in 0..<contextLength {
          let token = Int(tokens[firstToken + slot])
          let source = base + layout.embedding.offset + token * embeddingWidth
          (inputs + row * inputWidth + slot * embeddingWidth).update(
            from: source, count: embeddingWidth)
        }
      }
    }

    // hidden = tanh(inputs · transpose(hiddenWeight) + hiddenBias)
    storeProductWithTransposedRight(
      rowCount: rowCount, columnCount: hiddenWidth, reductionCount: inputWidth,
      a: inputs, aRowStride: inputWidth,
      b: base + layout.hiddenWeight.offset, bRowStride: inputWidth,
      c: hidden, cRowStride: hiddenWidth)
    for row in 0..<rowCount {
      let rowHidden = hidden + row * hiddenWidth
      for index in 0..<hiddenWidth {
        rowHidden[index] += base[layout.hiddenBias.offset + index]
      }
      applyToRow(rowHidden, count: hiddenWidth) { values in hyperbolicTangent(values) }
    }

    // logits = hidden · transpose(outputWeight) + outputBias
    storeProductWithTransposedRight(
      rowCount: rowCount, columnCount: vocabularySize, reductionCount: hiddenWidth,
      a: hidden, aRowStride: hiddenWidth,
      b: base + layout.outputWeight.offset, bRowStride: hiddenWidth,
      c: logits, cRowStride: vocabularySize)
    for row in 0..<rowCount {
      let rowLogits = logits + row * vocabularySize
      for index in 0..<vocabularySize {
        rowLogits[index] += base[layout.outputBias.offset + index]
      }
    }
  }

  /// Returns the summed cross-entropy of the rows of `scratch.logits` against the tokens at
  /// `positions`. With `computingGradient`, replaces the logits by the loss's gradient with
  /// respect to them, divided by the row count.
  func softmaxCrossEntropy(positions: UnsafeBufferPointer<Int>, computingGradient: Bool)
    -> Double
  {
    let rowCount = positions.count
    let vocabularySize = corpus.vocabularySize
    let logits = scratch.logits.baseAddress!
    let gradientScale = 1 / Float(rowCount)
    var lossSum = 0.0
    corpus.tokens.withUnsafeBufferPointer { tokens in
      for row in 0..<rowCount {
        let rowLogits = logits + row * vocabularySize
        let target = Int(tokens[positions[row]])
        var maximum = rowLogits[0]
        for index in 1..<vocabularySize where rowLogits[index] > maximum {
          maximum = rowLogits[index]
        }
        let targetLogit = rowLogits[target]
        let shift = FloatVector(repeating: maximum)
        applyToRow(rowLogits, count: vocabularySize) { values in exponential(values - shift) }
        var expSum: Float = 0
        for index in 0..<vocabularySize {
          expSum += rowLogits[index]
        }
        // NOTE: log is the C library's, so the reported loss may differ in its last bits
        // between platforms; the gradient does not use it.
        lossSum += Double(log(expSum) + maximum - targetLogit)
        if computingGradient {
          let scale = gradientScale / expSum
          for index in 0..<vocabularySize {
            rowLogits[index] *= scale
          }
          rowLogits[target] -= gradientScale
        }
      }
    }
    return lossSum
  }

  /// Stores the gradient of the loss in `scratch.gradients`, from the output gradient that
  /// ``softmaxCrossEntropy(positions:computingGradient:)`` left in `scratch.logits`.
  ///
  /// Weight gradients are dot products over the batch, so the activations and output
  /// gradients are first transposed to make each of those rows contiguous.
  func backward(parameters: UnsafeBufferPointer<Float>, positions: UnsafeBufferPointer<Int>) {
    let rowCount = positions.count
    let contextLength = configuration.contextLength
    let embeddingWidth = configuration.embeddingWidth
    let inputWidth = contextLength * embeddingWidth
    let hiddenWidth = configuration.hiddenWidth
    let vocabularySize = corpus.vocabularySize
    let base = parameters.baseAddress!
    let gradients = scratch.gradients.baseAddress!
    let inputs = scratch.inputs.baseAddress!
    let hidden = scratch.hidden.baseAddress!
    let logitGradients = scratch.logits.baseAddress!
    let hiddenGradients = scratch.hiddenGradients.baseAddress!
    let inputGradients = scratch.inputGradients.baseAddress!
    let transposed = scratch.transposed.baseAddress!
    let transposedGradients = scratch.transposedGradients.baseAddress!

    // Output layer: weight gradient transpose(dLogits) · hidden, bias gradient the sums over
    // the batch, and the gradient flowing back into the hidden activations.
    transpose(
      logitGradients, rowCount: rowCount, columnCount: vocabularySize, into: transposedGradients)
    transpose(hidden, rowCount: rowCount, columnCount: hiddenWidth, into: transposed)
    storeProductWithTransposedRight(
      rowCount: vocabularySize, columnCount: hiddenWidth, reductionCount: rowCount,
      a: transposedGradients, aRowStride: rowCount,
      b: transposed, bRowStride: rowCount,
      c: gradients + layout.outputWeight.offset, cRowStride: hiddenWidth)
    storeRowSums(
      of: transposedGradients, rowCount: vocabularySize, columnCount: rowCount,
      into: gradients + layout.outputBias.offset)
    hiddenGradients.update(repeating: 0, count: rowCount * hiddenWidth)
    addProduct(
      rowCount: rowCount, columnCount: hiddenWidth, reductionCount: vocabularySize,
      a: logitGradients, aRowStride: vocabularySize, aReductionStride: 1,
      b: base + layout.outputWeight.offset, bRowStride: hiddenWidth,
      c: hiddenGradients, cRowStride: hiddenWidth)

    // Through tanh: d(pre-activation) = d(hidden) · (1 − hidden²).
    for index in 0..<(rowCount * hiddenWidth) {
      let activation = hidden[index]
      hiddenGradients[index] *= 1 - activation * activation
    }

    // Hidden layer: weight gradient transpose(dPre) · inputs, bias gradient the sums over
    // the batch, and the inputs' gradient dPre · hiddenWeight.
    transpose(
      hiddenGradients, rowCount: rowCount, columnCount: hiddenWidth, into: transposedGradients)
    transpose(inputs, rowCount: rowCount, columnCount: inputWidth, into: transposed)
    storeProductWithTransposedRight(
      rowCount: hiddenWidth, columnCount: inputWidth, reductionCount: rowCount,
      a: transposedGradients, aRowStride: rowCount,
      b: transposed, bRowStride: rowCount,
      c: gradients + layout.hiddenWeight.offset, cRowStride: inputWidth)
    storeRowSums(
      of: transposedGradients, rowCount: hiddenWidth, columnCount: rowCount,
      into: gradients + layout.hiddenBias.offset)
    if let transposedWeight = scratch.transposedHiddenWeight?.baseAddress {
      transpose(
        base + layout.hiddenWeight.offset, rowCount: hiddenWidth, columnCount: inputWidth,
        into: transposedWeight)
      storeProductWithTransposedRight(
        rowCount: rowCount, columnCount: inputWidth, reductionCount: hiddenWidth,
        a: hiddenGradients, aRowStride: hiddenWidth,
        b: transposedWeight, bRowStride: hiddenWidth,
        c: inputGradients, cRowStride: inputWidth)
    } else {
      inputGradients.update(repeating: 0, count: rowCount * inputWidth)
      addProduct(
        rowCount: rowCount, columnCount: inputWidth, reductionCount: hiddenWidth,
        a: hiddenGradients, aRowStride: hiddenWidth, aReductionStride: 1,
        b: base + layout.hiddenWeight.offset, bRowStride: inputWidth,
        c: inputGradients, cRowStride: inputWidth)
    }

    // Each context slot's input gradient adds into the embedding row of its token, in row
    // then slot order.
    let embeddingGradients = gradients + layout.embedding.offset
    embeddingGradients.update(repeating: 0, count: layout.embedding.count)
    corpus.tokens.withUnsafeBufferPointer { tokens in
      for row in 0..<rowCount {
        let firstToken = positions[row] - contextLength
        for slot in 0..<contextLength {
          let token = Int(tokens[firstToken + slot])
          let target = embeddingGradients + token * embeddingWidth
          let source = inputGradients + row * inputWidth + slot * embeddingWidth
          for index in 0..<embeddingWidth {
            target[index] += source[index]
          }
        }
      }
    }
  }
}
