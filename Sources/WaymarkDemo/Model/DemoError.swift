/// An error from loading the demo's text corpus, configuring its model or restoring its state.
///
/// `code` is stable and meant for programs. `message` states what failed, on which value,
/// and what to do next.
public struct DemoError: Error, Sendable, CustomStringConvertible {
  /// The kind of failure; stable across releases.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private let name: String

    private init(_ name: String) { self.name = name }

    public var description: String { name }

    /// The corpus path does not exist, or a folder contains no `.swift` or `.md` file.
    public static let corpusNotFound = Code("corpusNotFound")
    /// A corpus file or folder could not be listed or read.
    public static let unreadableCorpus = Code("unreadableCorpus")
    /// The text is too short to split into training and validation windows.
    public static let corpusTooSmall = Code("corpusTooSmall")
    /// A configuration value is out of range.
    public static let invalidConfiguration = Code("invalidConfiguration")
    /// A training state does not fit this model: a tensor, the vocabulary or a field differs.
    public static let incompatibleState = Code("incompatibleState")
  }

  public var code: Code
  public var message: String
  /// File or folder involved.
  public var path: String?
  /// Tensor name involved.
  public var tensor: String?
  /// The error that caused this one.
  public var underlying: (any Error & Sendable)?

  public init(
    _ code: Code, _ message: String, path: String? = nil, tensor: String? = nil,
    underlying: (any Error & Sendable)? = nil
  ) {
    self.code = code
    self.message = message
    self.path = path
    self.tensor = tensor
    self.underlying = underlying
  }

  public var description: String {
    var text = message
    if let underlying { text += ": \(underlying)" }
    return text
  }
}
