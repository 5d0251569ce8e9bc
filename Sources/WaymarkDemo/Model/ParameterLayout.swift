/// The offsets and shapes of the model's parameter tensors in one flat `[Float]` array.
///
/// Weight matrices are stored as `[output width, input width]`, the convention of PyTorch's
/// `nn.Linear`, so each output unit's weights are one contiguous row.
///
/// Parameters, Adam's first moments and Adam's second moments each live in one flat array
/// with this layout. So the optimizer runs one loop over all of them, and a tensor handed
/// to a checkpoint is a view of its range rather than a copy. Each tensor starts at a multiple
/// of 16 elements (64 bytes); the padding between tensors stays zero.
struct ParameterLayout: Sendable {
  /// One parameter tensor.
  struct Entry: Sendable {
    /// The tensor's name in a training state, such as `hidden.weight`.
    let name: String
    /// Dimensions, outermost first.
    let shape: [Int]
    /// Index of the first element in the flat array.
    let offset: Int
    /// Number of elements.
    let count: Int

    var range: Range<Int> { offset..<(offset + count) }
  }

  static let alignment = 16

  /// The tensors in the order they are laid out and initialised.
  let entries: [Entry]
  /// Length of the flat arrays, padding included.
  let paddedCount: Int

  let embedding: Entry
  let hiddenWeight: Entry
  let hiddenBias: Entry
  let outputWeight: Entry
  let outputBias: Entry

  /// Lays out the tensors of a model; the sizes must already be validated as positive and
  /// small enough not to overflow.
  init(vocabularySize: Int, contextLength: Int, embeddingWidth: Int, hiddenWidth: Int) {
    var offset = 0
    func place(_ name: String, _ shape: [Int]) -> Entry {
      let count = shape.reduce(1, *)
      let entry = Entry(name: name, shape: shape, offset: offset, count: count)
      offset += (count + Self.alignment - 1) / Self.alignment * Self.alignment
      return entry
    }
    let inputWidth = contextLength * embeddingWidth
    embedding = place("embedding.weight", [vocabularySize, embeddingWidth])
    hiddenWeight = place("hidden.weight", [hiddenWidth, inputWidth])
    hiddenBias = place("hidden.bias", [hiddenWidth])
    outputWeight = place("output.weight", [vocabularySize, hiddenWidth])
    outputBias = place("output.bias", [vocabularySize])
    entries = [embedding, hiddenWeight, hiddenBias, outputWeight, outputBias]
    paddedCount = offset
  }

  /// Number of parameters, padding excluded.
  var parameterCount: Int {
    entries.reduce(0) { $0 + $1.count }
  }
}
