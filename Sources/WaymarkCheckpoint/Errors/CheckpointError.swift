/// An error from saving, loading, verifying or managing checkpoints.
///
/// `code` is stable and meant for programs; `message` says what failed, on which value, and
/// what to do next. The location fields name the checkpoint, tensor, chunk or field involved
/// when there is one.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
  /// The kind of failure; stable across releases.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) { self.name = name }

    public var description: String { name }

    /// A tensor's dtype, shape or bytes do not agree, or its name is not allowed.
    public static let invalidTensor = Code("invalidTensor")
    /// An argument to the API is out of range.
    public static let invalidArgument = Code("invalidArgument")
    /// The manifest is missing, unreadable, fails its checksum or breaks the format's rules.
    public static let invalidManifest = Code("invalidManifest")
    /// The manifest's format version is newer than this reader understands.
    public static let unsupportedVersion = Code("unsupportedVersion")
    /// A chunk's stored bytes do not match their checksum.
    public static let checksumMismatch = Code("checksumMismatch")
    /// A chunk is shorter than the manifest declares, or lies outside its file.
    public static let truncatedChunk = Code("truncatedChunk")
    /// A chunk's bytes fail to decompress to the declared length.
    public static let invalidChunk = Code("invalidChunk")
    /// No checkpoint exists at the path or for the step.
    public static let notFound = Code("notFound")
    /// A checkpoint for the step is already committed; it is never overwritten.
    public static let alreadyExists = Code("alreadyExists")
    /// Another live process holds the store's write lock.
    public static let storeLocked = Code("storeLocked")
    /// A file-system call failed.
    public static let io = Code("io")
    /// Memory for a tensor being loaded could not be allocated.
    public static let outOfMemory = Code("outOfMemory")
    /// The manager was shut down, or the save was cancelled.
    public static let cancelled = Code("cancelled")
    /// A safetensors file breaks that format's rules.
    public static let invalidSafetensors = Code("invalidSafetensors")
  }

  public var code: Code
  public var message: String
  /// Path of the checkpoint directory or file involved.
  public var path: String?
  /// Tensor name involved.
  public var tensor: String?
  /// Index of the chunk within its tensor.
  public var chunk: Int?
  /// Index of the pack in the manifest, when the problem is in a pack of small tensors.
  public var pack: Int?
  /// The error that caused this one.
  public var underlying: (any Error)?

  public init(
    _ code: Code, _ message: String, path: String? = nil, tensor: String? = nil, chunk: Int? = nil,
    pack: Int? = nil, underlying: (any Error)? = nil
  ) {
    self.code = code
    self.message = message
    self.path = path
    self.tensor = tensor
    self.chunk = chunk
    self.pack = pack
    self.underlying = underlying
  }

  public var description: String {
    var text = message
    if let path, !message.contains(path) { text += " (checkpoint: \(path))" }
    if let underlying { text += ": \(underlying)" }
    return text
  }

  /// Returns a copy that names the tensor and chunk it concerns, with the message prefixed
  /// by them, located at `path` when given.
  func attributed(toTensor tensor: String, chunk: Int? = nil, path: String? = nil)
    -> CheckpointError
  {
    var copy = self
    if let path { copy.path = path }
    copy.tensor = tensor
    copy.chunk = chunk
    let subject = chunk.map { "tensor '\(tensor)' chunk \($0)" } ?? "tensor '\(tensor)'"
    copy.message = subject + ": " + message
    return copy
  }

  /// Returns a copy that names the pack it concerns and the tensors stored in it, with the
  /// message prefixed by them, located at `path` when given.
  func attributed(toPack pack: Int, tensors: [String], path: String? = nil) -> CheckpointError {
    var copy = self
    if let path { copy.path = path }
    copy.pack = pack
    let named = tensors.prefix(2).map { "'\($0)'" }.joined(separator: ", ")
    let more = tensors.count > 2 ? " and \(tensors.count - 2) more" : ""
    let members = tensors.isEmpty ? "" : " (tensors \(named)\(more))"
    copy.message = "pack \(pack)\(members): " + message
    return copy
  }

  /// Returns a copy located at `path` unless it already names a path.
  func located(at path: String) -> CheckpointError {
    var copy = self
    if copy.path == nil { copy.path = path }
    return copy
  }
}
