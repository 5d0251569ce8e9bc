import Foundation

/// Walks JSON text once to reject what `JSONDecoder` accepts silently: an object with the
/// same key twice (the decoder keeps one of them) and nesting deeper than a limit.
///
/// It assumes nothing else about the text; syntax errors are left to the decoder. Keys are
/// compared after decoding their escapes, so `"a"` and `"\u0061"` are the same key.
struct JSONKeyCheck {
  /// The deepest nesting of objects and arrays accepted.
  static let maxDepth = 256

  /// A duplicate key or too deep nesting, with the path where it was found.
  struct Violation: Error {
    var path: String
    var reason: String
  }

  private enum Frame {
    case object(keys: Set<String>, currentKey: String?, expectsKey: Bool)
    case array(index: Int)
  }

  /// Throws ``Violation`` for the first duplicate key or nesting deeper than ``maxDepth``.
  static func check<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) throws
  where Bytes.Index == Int {
    var frames: [Frame] = []
    var index = bytes.startIndex
    while index != bytes.endIndex {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        guard frames.count < maxDepth else {
          throw Violation(path: path(of: frames), reason: "nests deeper than \(maxDepth) levels")
        }
        frames.append(
          byte == UInt8(ascii: "{")
            ? .object(keys: [], currentKey: nil, expectsKey: true) : .array(index: 0))
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        _ = frames.popLast()
      case UInt8(ascii: ","):
        if case .object(let keys, let key, _) = frames.last {
          frames[frames.count - 1] = .object(keys: keys, currentKey: key, expectsKey: true)
        } else if case .array(let position) = frames.last {
          frames[frames.count - 1] = .array(index: position + 1)
        }
      case UInt8(ascii: "\""):
        let end = endOfString(in: bytes, openingQuote: index)
        if case .object(var keys, let previousKey, true) = frames.last {
          let key = decodeKey(ArraySlice(bytes[index..<min(end, bytes.endIndex)]))
          // The frame gives up its reference first, so the insert does not copy the set:
          // copying made an object of n keys cost n² work.
          frames[frames.count - 1] = .array(index: 0)
          let inserted = keys.insert(key).inserted
          frames[frames.count - 1] = .object(
            keys: keys, currentKey: inserted ? key : previousKey, expectsKey: !inserted)
          guard inserted else {
            throw Violation(
              path: path(of: frames), reason: "has the key \(key.debugDescription) twice")
          }
        }
        index = end
        continue
      default:
        break
      }
      index += 1
    }
  }

  /// Returns the index just past the closing quote of the string that starts at
  /// `openingQuote`, or the end of the text for an unterminated string.
  private static func endOfString<Bytes: RandomAccessCollection<UInt8>>(
    in bytes: Bytes, openingQuote: Int
  ) -> Int
  where Bytes.Index == Int {
    var index = openingQuote + 1
    while index < bytes.endIndex {
      switch bytes[index] {
      case UInt8(ascii: "\\"): index += 2
      case UInt8(ascii: "\""): return index + 1
      default: index += 1
      }
    }
    return bytes.endIndex
  }

  private static func path(of frames: [Frame]) -> String {
    var path = ""
    for frame in frames {
      switch frame {
      case .object(_, let key?, _): path += "." + key
      case .object: break
      case .array(let index): path += "[\(index)]"
      }
    }
    return path.isEmpty ? "the top-level object" : String(path.drop { $0 == "." })
  }

  private static func decodeKey(_ quoted: ArraySlice<UInt8>) -> String {
    let raw = Array(quoted)
    guard raw.contains(UInt8(ascii: "\\")) else {
      return String(decoding: raw.dropFirst().dropLast(), as: UTF8.self)
    }
    return (try? JSONDecoder().decode(String.self, from: Data(raw)))
      ?? String(decoding: raw, as: UTF8.self)
  }
}
