import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Config hash")
struct ConfigHashTests {
  private func value(_ json: String) throws -> JSONValue {
    try JSONCoding.decoder().decode(JSONValue.self, from: Data(json.utf8))
  }

  @Test("equal configs with different key order hash equally")
  func keyOrderIgnored() throws {
    let first = try value(#"{"optimizer":{"name":"adamw","lr":0.0003},"batch":32,"layers":[1,2]}"#)
    let second = try value(#"{"layers":[1,2],"batch":32,"optimizer":{"lr":0.0003,"name":"adamw"}}"#)
    #expect(ConfigHash.hash(of: first) == ConfigHash.hash(of: second))
  }

  @Test("number spellings of one value hash equally")
  func numberSpellingsNormalized() throws {
    let hashes = try [#"{"x":1}"#, #"{"x":1.0}"#, #"{"x":1e0}"#, #"{"x":10E-1}"#].map {
      ConfigHash.hash(of: try value($0))
    }
    #expect(Set(hashes).count == 1)
    #expect(ConfigHash.hash(of: .double(-0.0)) == ConfigHash.hash(of: .int(0)))
  }

  @Test("different configs hash differently")
  func differentConfigs() throws {
    let first = try value(#"{"lr":0.001}"#)
    let second = try value(#"{"lr":0.002}"#)
    let third = try value(#"{"lr":"0.001"}"#)
    #expect(ConfigHash.hash(of: first) != ConfigHash.hash(of: second))
    #expect(ConfigHash.hash(of: first) != ConfigHash.hash(of: third))
  }

  @Test("Codable structs hash like their JSON")
  func structMatchesJSON() throws {
    struct Config: Encodable {
      var b = 2
      var a = "x"
    }
    #expect(
      try ConfigHash.hash(of: Config()) == ConfigHash.hash(of: try value(#"{"a":"x","b":2}"#)))
  }

  @Test("hash has the sha256 prefix and 64 hex digits")
  func hashFormat() {
    let hash = ConfigHash.hash(of: .object([:]))
    #expect(hash.hasPrefix("sha256:"))
    #expect(hash.dropFirst(7).count == 64)
    // SHA-256 of the two bytes "{}".
    #expect(hash == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
  }

  @Test("canonical JSON sorts keys and normalizes numbers")
  func canonicalText() throws {
    let config = try value(#"{"b":[1.50,2e-7,3e20],"a":{"z":null,"y":true},"c":"q\"\n","d":"NaN"}"#)
    #expect(
      CanonicalJSON.string(of: config)
        == #"{"a":{"y":true,"z":null},"b":[1.5,2e-7,3e20],"c":"q\"\n","d":"NaN"}"#)
    #expect(CanonicalJSON.string(of: .double(.infinity)) == #""Infinity""#)
    #expect(CanonicalJSON.string(of: .double(2.5e300)) == "2.5e300")
    #expect(CanonicalJSON.string(of: .double(4_294_967_296.0)) == "4294967296")
  }

  static let fipsExamples: [(input: String, digest: String)] = [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
  ]

  @Test("SHA-256 matches the FIPS 180-4 examples", arguments: fipsExamples)
  func sha256Vectors(input: String, expected: String) {
    #expect(SHA256.hexDigest(of: Array(input.utf8)) == expected)
  }

  @Test("SHA-256 of one million 'a' bytes")
  func sha256LongInput() {
    let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    #expect(
      SHA256.hexDigest(of: input)
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }
}
