import Foundation
public import WaymarkCheckpoint
import WaymarkCore

extension CharLanguageModel {
  /// The value of `format` in the extra state of every state this model writes.
  public static let stateFormat = "waymark.demo.char-language-model"

  /// The version of the state layout; a state with another version is rejected.
  public static let stateFormatVersion: Int64 = 1

  /// Returns everything needed to continue training from the current step.
  ///
  /// The tensors are the parameters (`embedding.weight`, `hidden.weight`, `hidden.bias`,
  /// `output.weight`, `output.bias`) and Adam's moment estimates under the same names
  /// prefixed with `adam.m.` and `adam.v.`, all float32. The extra state contains `format`,
  /// `formatVersion`, `step`, the Adam step and hyperparameters under `adam`, the generator
  /// state under `random`, the `vocabulary` as byte values, the `configuration`, and the
  /// corpus's byte count and XXH3-64 hash under `corpus`.
  ///
  /// The tensors share the model's arrays rather than copying them. The next training step
  /// copies those arrays once if a tensor is still alive then, for example while a save is
  /// in flight.
  ///
  /// - Throws: ``DemoError`` if the configuration cannot be encoded as JSON.
  public func trainingState() throws -> TrainingState {
    var tensors: [String: Tensor] = [:]
    let arrays = [("", parameters), ("adam.m.", firstMoments), ("adam.v.", secondMoments)]
    for (prefix, array) in arrays {
      for entry in layout.entries {
        tensors[prefix + entry.name] = try Tensor(
          dtype: .float32, shape: entry.shape,
          storage: FloatArrayRange(array: array, range: entry.range))
      }
    }

    let configurationValue: JSONValue
    do {
      configurationValue = try JSONValue(encoding: configuration)
    } catch {
      throw DemoError(
        .invalidConfiguration, "failed to encode the model configuration as JSON",
        underlying: error)
    }
    let extraState: JSONValue = [
      "format": .string(Self.stateFormat),
      "formatVersion": .int(Self.stateFormatVersion),
      "step": .int(Int64(step)),
      "adam": [
        "step": .int(Int64(adamStep)),
        "beta1": .double(Self.adamBeta1),
        "beta2": .double(Self.adamBeta2),
        "epsilon": .double(Self.adamEpsilon),
        "learningRate": .double(configuration.learningRate),
      ],
      "random": [
        "algorithm": "xoshiro256**",
        "state": .array(random.state.map { .unsignedInt($0) }),
      ],
      "vocabulary": .array(corpus.vocabulary.map { .int(Int64($0)) }),
      "configuration": configurationValue,
      "corpus": [
        "byteCount": .int(Int64(corpus.byteCount)),
        "xxh3": .string(XXH3.hexString(corpus.contentHash)),
      ],
    ]
    return TrainingState(tensors: tensors, extraState: extraState)
  }

  /// Replaces the parameters, Adam's state, the generator state and the step with those of
  /// `state`.
  ///
  /// The state must come from a model with the same vocabulary, context length, embedding
  /// width and hidden width. The batch size and learning rate stay this model's own, so
  /// training continues bit-identically only when they match the saved configuration.
  /// Tensors with other names are ignored. Nothing changes when the method throws.
  ///
  /// - Throws: ``DemoError`` with code `.incompatibleState` when the format, the
  ///   vocabulary, a field of the extra state, or a tensor's presence, dtype or shape does
  ///   not match. The message names the field or tensor with the expected and actual values.
  public func restore(from state: TrainingState) throws {
    let extra = state.extraState
    try Self.checkFormat(of: extra)
    try checkVocabulary(of: extra)
    let restoredStep = try Self.nonNegativeInteger(extra["step"], field: "step")
    let restoredAdamStep = try Self.nonNegativeInteger(extra["adam"]?["step"], field: "adam.step")
    let restoredRandom = try Self.generator(from: extra["random"]?["state"])

    let arrays = ["", "adam.m.", "adam.v."]
    for prefix in arrays {
      for entry in layout.entries {
        try checkTensor(
          state.tensors[prefix + entry.name], named: prefix + entry.name, entry: entry)
      }
    }

    func copy(prefix: String, into array: inout [Float]) {
      array.withUnsafeMutableBytes { destination in
        for entry in layout.entries {
          // Checked above: present, float32 and of the entry's shape.
          let tensor = state.tensors[prefix + entry.name]!
          tensor.withUnsafeBytes { source in
            let start = entry.offset * MemoryLayout<Float>.stride
            UnsafeMutableRawBufferPointer(rebasing: destination[start..<(start + source.count)])
              .copyMemory(from: source)
          }
        }
      }
    }
    copy(prefix: "", into: &parameters)
    copy(prefix: "adam.m.", into: &firstMoments)
    copy(prefix: "adam.v.", into: &secondMoments)
    step = restoredStep
    adamStep = restoredAdamStep
    random = restoredRandom
  }

  /// Returns the configuration stored in a state that ``trainingState()`` wrote, so a
  /// resumed run can build a model of the same shape.
  ///
  /// - Throws: ``DemoError`` with code `.incompatibleState` when the state is not this
  ///   model's or its configuration field is missing or malformed.
  public static func configuration(of state: TrainingState) throws -> DemoModelConfiguration {
    try checkFormat(of: state.extraState)
    guard let value = state.extraState["configuration"] else {
      throw DemoError(
        .incompatibleState, "the training state has no 'configuration' field in its extra state")
    }
    do {
      return try value.decode(as: DemoModelConfiguration.self)
    } catch {
      throw DemoError(
        .incompatibleState, "the training state's 'configuration' field is malformed",
        underlying: error)
    }
  }

  // MARK: - Checks

  private static func checkFormat(of extra: JSONValue) throws {
    guard let format = extra["format"]?.stringValue, format == stateFormat else {
      let found = extra["format"]?.stringValue.map { "'\($0)'" } ?? "none"
      throw DemoError(
        .incompatibleState,
        "the training state is not a demo language model state: expected format '\(stateFormat)', found \(found)"
      )
    }
    let version = extra["formatVersion"]?.intValue
    guard version == stateFormatVersion else {
      throw DemoError(
        .incompatibleState,
        "the training state's 'formatVersion' is \(jsonText(extra["formatVersion"])), but this model reads version \(stateFormatVersion)"
      )
    }
  }

  private func checkVocabulary(of extra: JSONValue) throws {
    guard case .array(let values) = extra["vocabulary"] else {
      throw DemoError(.incompatibleState, "the training state has no 'vocabulary' array")
    }
    let saved = values.map { $0.intValue }
    let current: [Int64?] = corpus.vocabulary.map { Int64($0) }
    guard saved != current else { return }
    if let index = zip(saved, current).enumerated().first(where: { $0.element.0 != $0.element.1 })?
      .offset
    {
      let savedSymbol = saved[index].map { String($0) } ?? "a non-integer"
      throw DemoError(
        .incompatibleState,
        "the training state's vocabulary differs from the corpus's: symbol \(index) is byte \(savedSymbol) in the state and byte \(corpus.vocabulary[index]) in the corpus; train on the text the state was saved from"
      )
    }
    throw DemoError(
      .incompatibleState,
      "the training state's vocabulary has \(saved.count) symbols but the corpus's has \(current.count); train on the text the state was saved from"
    )
  }

  private func checkTensor(_ tensor: Tensor?, named name: String, entry: ParameterLayout.Entry)
    throws
  {
    guard let tensor else {
      throw DemoError(
        .incompatibleState, "the training state has no tensor '\(name)'", tensor: name)
    }
    guard tensor.dtype == .float32 else {
      throw DemoError(
        .incompatibleState,
        "tensor '\(name)' has dtype \(tensor.dtype.rawValue), expected f32", tensor: name)
    }
    guard tensor.shape == entry.shape else {
      throw DemoError(
        .incompatibleState,
        "tensor '\(name)' has shape \(tensor.shape), expected \(entry.shape); build the model with the configuration the state was saved with",
        tensor: name)
    }
  }

  private static func nonNegativeInteger(_ value: JSONValue?, field: String) throws -> Int {
    guard let integer = value?.intValue, integer >= 0, let result = Int(exactly: integer) else {
      throw DemoError(
        .incompatibleState,
        "the training state's '\(field)' is \(jsonText(value)), expected a non-negative integer"
      )
    }
    return result
  }

  private static func generator(from value: JSONValue?) throws -> Xoshiro256StarStar {
    if case .array(let words) = value {
      let state = words.compactMap { word -> UInt64? in
        switch word {
        case .unsignedInt(let unsigned): unsigned
        case .int(let signed): UInt64(exactly: signed)
        default: nil
        }
      }
      if state.count == words.count, let generator = Xoshiro256StarStar(state: state) {
        return generator
      }
    }
    throw DemoError(
      .incompatibleState,
      "the training state's 'random.state' is \(jsonText(value)), expected four unsigned 64-bit integers, not all zero"
    )
  }
}

/// Returns `value` as compact JSON text for an error message, or `missing` for `nil`.
private func jsonText(_ value: JSONValue?) -> String {
  guard let value else { return "missing" }
  guard let data = try? JSONCoding.encoder().encode(value) else { return "\(value)" }
  return String(decoding: data, as: UTF8.self)
}

/// A range of a `[Float]` presented as tensor storage without copying it.
struct FloatArrayRange: TensorStorage {
  let array: [Float]
  let range: Range<Int>

  func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows
    -> Result
  {
    try array.withUnsafeBytes { bytes in
      let stride = MemoryLayout<Float>.stride
      return try body(
        UnsafeRawBufferPointer(
          rebasing: bytes[(range.lowerBound * stride)..<(range.upperBound * stride)]))
    }
  }
}
