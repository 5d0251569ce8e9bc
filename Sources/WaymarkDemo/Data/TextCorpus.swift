import WaymarkCore

/// Text for the demo's character-level language model: byte tokens, their vocabulary, and a
/// split into training and validation text.
///
/// Tokens are UTF-8 bytes, not Unicode scalars. The vocabulary is the ascending set of byte
/// values that occur in the text, so it has at most 256 symbols and any file can be read
/// without decoding. A non-ASCII character becomes two to four tokens. The last
/// `validationFraction` of the text is held out for validation.
public struct TextCorpus: Sendable, Equatable {
  /// The default cap on the bytes read from files: 8 MiB.
  public static let defaultByteLimit = 8 * 1024 * 1024

  /// The default share of the text, from its end, held out for validation: 10%.
  public static let defaultValidationFraction = 0.1

  /// Byte values that occur in the text, ascending; a token is an index into this array.
  public let vocabulary: [UInt8]

  /// The whole text as indices into ``vocabulary``: training tokens, then validation tokens.
  public let tokens: [UInt8]

  /// Index in ``tokens`` of the first validation token.
  public let validationStartIndex: Int

  /// Files the text was read from, in reading order; empty for text passed in memory.
  public let filePaths: [String]

  /// Whether the byte limit cut the text short, so some files or a file's end were left out.
  public let isTruncated: Bool

  /// XXH3-64 hash of the text's bytes, to tell whether two corpora hold the same text.
  public let contentHash: UInt64

  /// Creates a corpus from in-memory bytes.
  ///
  /// - Parameters:
  ///   - bytes: The text, usually UTF-8.
  ///   - validationFraction: Share of the text, taken from its end, held out for validation;
  ///     greater than 0 and less than 1. Defaults to 0.1.
  /// - Throws: ``DemoError`` with code `.corpusTooSmall` when `bytes` has fewer than two
  ///   bytes or either part would be empty, and `.invalidConfiguration` when
  ///   `validationFraction` is out of range.
  public init(bytes: [UInt8], validationFraction: Double = defaultValidationFraction) throws {
    try self.init(
      bytes: bytes, validationFraction: validationFraction, filePaths: [], isTruncated: false,
      sourceDescription: "the text")
  }

  /// Creates a corpus from the UTF-8 bytes of `text`.
  ///
  /// - Throws: The errors of ``init(bytes:validationFraction:)``.
  public init(text: String, validationFraction: Double = defaultValidationFraction) throws {
    try self.init(bytes: Array(text.utf8), validationFraction: validationFraction)
  }

  init(
    bytes: [UInt8], validationFraction: Double, filePaths: [String], isTruncated: Bool,
    sourceDescription: String
  ) throws {
    guard validationFraction > 0, validationFraction < 1 else {
      throw DemoError(
        .invalidConfiguration,
        "validation fraction \(validationFraction) is out of range; pass a value greater than 0 and less than 1"
      )
    }
    let validationCount = Int((Double(bytes.count) * validationFraction).rounded(.down))
    guard validationCount >= 1, validationCount < bytes.count else {
      throw DemoError(
        .corpusTooSmall,
        "\(sourceDescription) has \(bytes.count) bytes, too few to hold out \(validationFraction * 100)% for validation; add more text"
      )
    }

    var isPresent = [Bool](repeating: false, count: 256)
    for byte in bytes {
      isPresent[Int(byte)] = true
    }
    let vocabulary = (0...255).filter { isPresent[$0] }.map { UInt8($0) }
    var tokenOfByte = [UInt8](repeating: 0, count: 256)
    for (index, byte) in vocabulary.enumerated() {
      tokenOfByte[Int(byte)] = UInt8(index)
    }

    self.vocabulary = vocabulary
    self.tokens = bytes.map { tokenOfByte[Int($0)] }
    self.validationStartIndex = bytes.count - validationCount
    self.filePaths = filePaths
    self.isTruncated = isTruncated
    self.contentHash = XXH3.hash(bytes)
  }

  /// Number of tokens, which is the number of bytes of text.
  public var byteCount: Int { tokens.count }

  /// Number of symbols in the vocabulary, between 1 and 256.
  public var vocabularySize: Int { vocabulary.count }

  /// Number of training tokens, at the start of ``tokens``.
  public var trainingByteCount: Int { validationStartIndex }

  /// Number of validation tokens, at the end of ``tokens``.
  public var validationByteCount: Int { tokens.count - validationStartIndex }

  /// Converts tokens back to text; bytes that do not form valid UTF-8 become U+FFFD.
  public func decode(_ tokens: some Sequence<UInt8>) -> String {
    String(decoding: tokens.map { vocabulary[Int($0)] }, as: UTF8.self)
  }

  /// Converts text to tokens, or returns `nil` when it contains a byte the vocabulary lacks.
  public func encode(_ text: String) -> [UInt8]? {
    var tokenOfByte = [Int](repeating: -1, count: 256)
    for (index, byte) in vocabulary.enumerated() {
      tokenOfByte[Int(byte)] = index
    }
    var result: [UInt8] = []
    result.reserveCapacity(text.utf8.count)
    for byte in text.utf8 {
      let token = tokenOfByte[Int(byte)]
      guard token >= 0 else { return nil }
      result.append(UInt8(token))
    }
    return result
  }
}
