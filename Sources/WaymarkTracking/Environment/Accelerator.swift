/// A GPU or other accelerator and where it was found.
public struct Accelerator: Sendable, Hashable, Codable {
  /// Model name, such as `NVIDIA H100 80GB HBM3`, or the device node when no name is known.
  public var name: String
  /// File the accelerator was found in, such as `/proc/driver/nvidia/gpus/0000:01:00.0/information`.
  public var source: String

  /// Creates an accelerator entry.
  public init(name: String, source: String) {
    self.name = name
    self.source = source
  }
}
