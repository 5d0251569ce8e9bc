public import WaymarkCore

/// Everything a checkpoint holds: named tensors plus JSON non-tensor state.
///
/// The extra state carries what is not a tensor: optimizer hyperparameters and step counts,
/// scheduler state, RNG state, the data loader's position, anything that encodes as JSON.
public struct TrainingState: Sendable, Equatable {
  /// Tensors by name. Names are UTF-8, non-empty, at most 1,024 bytes, and contain no NUL.
  public var tensors: [String: Tensor]

  /// Non-tensor state, stored in the manifest as JSON.
  public var extraState: JSONValue

  public init(tensors: [String: Tensor] = [:], extraState: JSONValue = .null) {
    self.tensors = tensors
    self.extraState = extraState
  }

  /// Total bytes of all tensors.
  public var byteCount: Int {
    tensors.values.reduce(0) { $0 + $1.byteCount }
  }
}
