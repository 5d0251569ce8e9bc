/// The fields of `uname`.
public struct KernelInfo: Sendable, Hashable, Codable {
  /// Kernel name, such as `Linux` or `Darwin`.
  public var name: String
  /// Kernel release, such as `6.8.0-45-generic`.
  public var release: String
  /// Kernel build version string.
  public var version: String
  /// Hardware architecture, such as `x86_64` or `arm64`.
  public var machine: String

  /// Creates kernel facts.
  public init(name: String, release: String, version: String, machine: String) {
    self.name = name
    self.release = release
    self.version = version
    self.machine = machine
  }
}
