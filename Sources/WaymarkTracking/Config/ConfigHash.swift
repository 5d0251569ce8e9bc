public import WaymarkCore

/// The identity of a run's config: SHA-256 of its canonical JSON.
///
/// Two configs that are equal as JSON, whatever their key order or number spelling, get the
/// same hash, so runs with the same settings can be grouped. The text is `sha256:` followed by
/// 64 lowercase hexadecimal digits. SHA-256 is used rather than XXH3 because the hash names
/// a config across machines and years, where a 64-bit hash could collide.
public enum ConfigHash {
  /// Returns `sha256:<hex>` of the canonical JSON of `config`.
  public static func hash(of config: JSONValue) -> String {
    "sha256:" + SHA256.hexDigest(of: CanonicalJSON.bytes(of: config))
  }

  /// Encodes `config` through ``JSONCoding`` and returns its hash.
  ///
  /// - Throws: ``TrackingError`` with code `.encodingFailed` when the value cannot be encoded.
  public static func hash(of config: some Encodable) throws -> String {
    hash(of: try encodeConfig(config))
  }

  /// Converts a config into a JSON value.
  static func encodeConfig(_ config: some Encodable) throws -> JSONValue {
    if let value = config as? JSONValue { return value }
    do {
      return try JSONValue(encoding: config)
    } catch {
      throw TrackingError(
        .encodingFailed,
        "config of type \(type(of: config)) could not be encoded as JSON; make every field Encodable",
        underlying: error)
    }
  }
}
