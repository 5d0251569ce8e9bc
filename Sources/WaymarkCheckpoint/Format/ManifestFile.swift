import Foundation
import WaymarkCore

/// Encodes and decodes `manifest.json`: the manifest's JSON wrapped with its own checksum.
///
/// The file is the UTF-8 text `{"checksum":"xxh3-64:<16 hex digits>","manifest":<body>}`
/// followed by one newline. The body starts at byte 50, ends two bytes before the end of
/// the file, and the checksum is XXH3-64 of exactly those body bytes. A reader in any language
/// can check it without parsing JSON first.
public enum ManifestFile {
  /// Name of the manifest inside a checkpoint directory.
  public static let fileName = "manifest.json"

  /// Largest manifest a reader accepts: 256 MiB.
  public static let maxByteCount = 256 << 20

  private static let prefix = Array(#"{"checksum":"xxh3-64:"#.utf8)
  private static let middle = Array(#"","manifest":"#.utf8)
  private static let suffix = Array("}\n".utf8)

  /// Byte offset where the body begins.
  public static let bodyOffset = prefix.count + 16 + middle.count

  /// Encodes `manifest` into the bytes of `manifest.json`.
  public static func encode(_ manifest: Manifest) throws -> [UInt8] {
    let body = ManifestJSON.encode(manifest)
    let checksum = XXH3.hexString(body.withUnsafeBytes(XXH3.hash))
    return prefix + Array(checksum.utf8) + middle + body + suffix
  }

  /// Decodes and validates the bytes of `manifest.json`.
  ///
  /// - Throws: ``CheckpointError`` with code `.invalidManifest` naming the broken field, or
  ///   `.unsupportedVersion`.
  public static func decode(_ bytes: [UInt8]) throws -> Manifest {
    guard bytes.count <= maxByteCount else {
      throw CheckpointError(
        .invalidManifest, "manifest of \(bytes.count) bytes exceeds the limit of \(maxByteCount)")
    }
    guard bytes.count >= bodyOffset + suffix.count,
      bytes.starts(with: prefix),
      bytes[(prefix.count + 16)..<bodyOffset].elementsEqual(middle),
      bytes.suffix(suffix.count).elementsEqual(suffix)
    else {
      throw CheckpointError(
        .invalidManifest,
        "manifest is truncated or not a Waymark manifest: its framing does not match docs/FORMAT.md"
      )
    }
    let checksumText = String(decoding: bytes[prefix.count..<(prefix.count + 16)], as: UTF8.self)
    guard let expected = XXH3.parseHex(checksumText) else {
      throw CheckpointError(
        .invalidManifest, "manifest checksum '\(checksumText)' is not 16 hexadecimal digits")
    }
    let body = bytes[bodyOffset..<(bytes.count - suffix.count)]
    let actual = body.withUnsafeBytes(XXH3.hash)
    guard actual == expected else {
      throw CheckpointError(
        .invalidManifest,
        "manifest checksum mismatch: file says \(checksumText), content hashes to \(XXH3.hexString(actual)); the manifest was modified or damaged"
      )
    }

    if let manifest = body.withUnsafeBytes(ManifestJSON.decode) {
      try ManifestValidation.validate(manifest)
      return manifest
    }
    // The fast reader declined the text, so the diagnosing reader names what is wrong with it.
    let manifest = try decodeDiagnosing(body)
    try ManifestValidation.validate(manifest)
    return manifest
  }

  /// Decodes a manifest body with `JSONDecoder`, whose errors name the field that is wrong.
  static func decodeDiagnosing(_ body: ArraySlice<UInt8>) throws -> Manifest {
    do {
      try JSONKeyCheck.check(body)
    } catch let violation as JSONKeyCheck.Violation {
      throw CheckpointError(
        .invalidManifest, "manifest JSON is invalid: \(violation.path) \(violation.reason)")
    }
    // JSONDecoder accepts some text that is not JSON, such as a trailing comma or a byte order
    // mark, and the format promises JSON.
    let strictTree = JSONParser.parse(
      body, options: .init(maxDepth: JSONKeyCheck.maxDepth, rejectsDuplicateKeys: true))
    do {
      let manifest = try JSONCoding.decoder().decode(Manifest.self, from: Data(body))
      guard let strictTree else {
        throw CheckpointError(
          .invalidManifest,
          "manifest JSON is invalid: the body is not JSON as RFC 8259 defines it (a trailing comma, a byte order mark or another extension); write the manifest again with a JSON encoder"
        )
      }
      if let detail = ManifestNumberDiagnosis.firstInvalidInteger(in: strictTree) {
        throw CheckpointError(.invalidManifest, "manifest JSON is invalid: \(detail)")
      }
      return manifest
    } catch let error as CheckpointError {
      throw error
    } catch let error as DecodingError {
      let detail =
        ManifestNumberDiagnosis.firstInvalidInteger(in: body, parsed: strictTree)
        ?? describe(error)
      throw CheckpointError(.invalidManifest, "manifest JSON is invalid: \(detail)")
    } catch {
      throw CheckpointError(.invalidManifest, "manifest JSON is invalid: \(error)")
    }
  }

  private static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }
      return keys.isEmpty ? "top level" : keys.joined()
    }
    switch error {
    case .keyNotFound(let key, let context):
      return "missing field '\(key.stringValue)' at \(path(context))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
      var text = "\(context.debugDescription) at \(path(context))"
      if let underlying = context.underlyingError {
        text += " (\(underlying))"
      }
      return text
    @unknown default:
      return "\(error)"
    }
  }
}
