import Foundation
import WaymarkCore

/// Finds which integer field of a manifest contains a number that is not a 64-bit integer, so
/// the error can name it; `JSONDecoder` reports such numbers without a coding path.
enum ManifestNumberDiagnosis {
  private static let integerFields: Set<String> = [
    "formatVersion", "step", "rank", "worldSize", "byteCount", "offset", "storedByteCount",
    "rawOffset", "rawByteCount", "index",
  ]

  /// Returns the path and value of the first integer field that contains a fraction or a number
  /// out of range, such as `tensors[0].shape[1] is 4.5`.
  ///
  /// `JSONDecoder` reads `3.0` and `3e0` into an integer field without complaint, so the text
  /// is read as ``JSONParser`` parses it (`parsed`), which keeps such literals as doubles.
  /// Text that parser rejects, such as `1e999`, is decoded with `JSONDecoder` instead.
  static func firstInvalidInteger(in body: ArraySlice<UInt8>, parsed: JSONValue?) -> String? {
    if let parsed { return firstInvalidInteger(in: parsed) }
    guard let value = try? JSONCoding.decoder().decode(JSONValue.self, from: Data(body)) else {
      return nil
    }
    return firstInvalidInteger(in: value)
  }

  /// Returns the path and value of the first integer field of a parsed manifest body that
  /// contains a fraction or a number out of range.
  static func firstInvalidInteger(in body: JSONValue) -> String? {
    search(body, path: "", isIntegerField: false)
  }

  private static func search(_ value: JSONValue, path: String, isIntegerField: Bool) -> String? {
    switch value {
    case .object(let members):
      for key in members.keys.sorted() where key != "extraState" && key != "metrics" {
        let childPath = path.isEmpty ? key : path + "." + key
        let isInteger = integerFields.contains(key) || key == "shape"
        if let found = search(members[key]!, path: childPath, isIntegerField: isInteger) {
          return found
        }
      }
    case .array(let elements):
      for (index, element) in elements.enumerated() {
        if let found = search(element, path: path + "[\(index)]", isIntegerField: isIntegerField) {
          return found
        }
      }
    case .double(let number)
    where isIntegerField && number.rounded() == number && abs(number) < 0x1p63:
      return
        "\(path) is written as \(number), with a fraction or an exponent; write integer fields as integers, such as \(Int64(number))"
    case .double(let number) where isIntegerField:
      return "\(path) is \(number), which is not a whole number from \(Int64.min) to \(Int64.max)"
    case .unsignedInt(let number) where isIntegerField:
      return "\(path) is \(number), which exceeds \(Int64.max)"
    default:
      break
    }
    return nil
  }
}
