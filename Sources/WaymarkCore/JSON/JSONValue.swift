public import Foundation

/// Any JSON value, used for non-tensor training state and configs.
///
/// Integers keep their exact value up to 64 bits, so RNG state and data positions
/// survive a round trip. Non-finite doubles are written as the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"`, the same convention as ``JSONCoding``.
public enum JSONValue: Sendable {
  case null
  case bool(Bool)
  case int(Int64)
  case unsignedInt(UInt64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// Converts an `Encodable` value into a JSON value through ``JSONCoding``.
  public init(encoding value: some Encodable) throws {
    let data = try JSONCoding.encoder().encode(value)
    self = try JSONCoding.decoder().decode(JSONValue.self, from: data)
  }

  /// Decodes this value as `type` through ``JSONCoding``.
  public func decode<T: Decodable>(as type: T.Type = T.self) throws -> T {
    let data = try JSONCoding.encoder().encode(self)
    return try JSONCoding.decoder().decode(type, from: data)
  }

  /// The member named `key` of an object; `nil` for other values or a missing key.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members[key]
  }

  /// The value as a double, for any numeric case and for the non-finite strings.
  public var doubleValue: Double? {
    switch self {
    case .double(let value): value
    case .int(let value): Double(value)
    case .unsignedInt(let value): Double(value)
    case .string("NaN"): .nan
    case .string("Infinity"): .infinity
    case .string("-Infinity"): -.infinity
    default: nil
    }
  }

  /// The value as a 64-bit signed integer, when it is one exactly.
  public var intValue: Int64? {
    switch self {
    case .int(let value): value
    case .unsignedInt(let value): Int64(exactly: value)
    case .double(let value): Int64(exactly: value)
    default: nil
    }
  }

  /// The value as a string, for the string case only.
  public var stringValue: String? {
    guard case .string(let value) = self else { return nil }
    return value
  }
}

extension JSONValue: Hashable {
  /// Compares values as JSON does: `.int` and `.unsignedInt` holding the same number are
  /// equal, because both encode to the same text and decoding picks `.int` when it fits.
  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): true
    case (.bool(let left), .bool(let right)): left == right
    case (.int, .int), (.int, .unsignedInt), (.unsignedInt, .int), (.unsignedInt, .unsignedInt):
      lhs.exactInteger == rhs.exactInteger
    case (.double(let left), .double(let right)): left == right
    case (.string(let left), .string(let right)): left == right
    case (.array(let left), .array(let right)): left == right
    case (.object(let left), .object(let right)): left == right
    default: false
    }
  }

  public func hash(into hasher: inout Hasher) {
    switch self {
    case .null: hasher.combine(0)
    case .bool(let value): hasher.combine(value)
    case .int, .unsignedInt: hasher.combine(exactInteger)
    case .double(let value): hasher.combine(value)
    case .string(let value): hasher.combine(value)
    case .array(let value): hasher.combine(value)
    case .object(let value): hasher.combine(value)
    }
  }

  /// The integer cases as one comparable value: negative numbers as `Int64`, the rest as
  /// `UInt64`.
  private var exactInteger: IntegerKey? {
    switch self {
    case .int(let value) where value < 0: .negative(value)
    case .int(let value): .nonNegative(UInt64(value))
    case .unsignedInt(let value): .nonNegative(value)
    default: nil
    }
  }

  private enum IntegerKey: Hashable {
    case negative(Int64)
    case nonNegative(UInt64)
  }
}

extension JSONValue: Codable {
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Int64.self) {
      self = .int(value)
    } else if let value = try? container.decode(UInt64.self) {
      self = .unsignedInt(value)
    } else if let value = try? container.decode(Double.self) {
      self = .double(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .int(let value): try container.encode(value)
    case .unsignedInt(let value): try container.encode(value)
    case .double(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .array(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int64) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(Dictionary(elements) { _, last in last })
  }
}

/// The JSON encoder and decoder settings every Waymark file uses.
public enum JSONCoding {
  /// An encoder with sorted keys, ISO 8601 dates and non-finite doubles as strings.
  public static func encoder(pretty: Bool = false) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting =
      pretty
      ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
      : [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return encoder
  }

  /// A decoder that reads what ``encoder(pretty:)`` writes.
  public static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return decoder
  }
}
