import WaymarkCore

@testable import WaymarkCheckpoint

private let checksumPrefix = Array(#"{"checksum":"xxh3-64:"#.utf8)
private let bodyPrefix = Array(#"","manifest":"#.utf8)
private let fileSuffix = Array("}\n".utf8)

/// Decodes arbitrary bytes as `manifest.json`, twice: as the whole file, and as a manifest
/// body framed with its correct checksum.
///
/// Random bytes almost never carry a matching checksum, so the second decode is what lets
/// the fuzzer reach the JSON decoder and the validation rules. Any thrown error is a correct
/// rejection. A crash, a sanitizer report, a manifest that decodes but cannot be encoded and
/// decoded again, or a body the fast reader reads differently from `JSONDecoder` is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: start, count: count))
  checkRoundTrip(of: bytes)

  let checksum = XXH3.hexString(bytes.withUnsafeBytes(XXH3.hash))
  checkRoundTrip(of: checksumPrefix + Array(checksum.utf8) + bodyPrefix + bytes + fileSuffix)
  checkReadersAgree(on: bytes)
  return 0
}

/// Checks that whatever the fast manifest reader accepts, `JSONDecoder` accepts too, with
/// the same values.
private func checkReadersAgree(on body: [UInt8]) {
  guard let fast = body.withUnsafeBytes(ManifestJSON.decode) else { return }
  guard let slow = try? ManifestFile.decodeDiagnosing(body[...]) else {
    fatalError("the fast reader accepted a body JSONDecoder rejects")
  }
  let agree =
    fast.formatVersion == slow.formatVersion && fast.step == slow.step
    && fast.wallTime.bitPattern == slow.wallTime.bitPattern && fast.tensors == slow.tensors
    && fast.packs == slow.packs && fast.writers == slow.writers
    && fast.metrics.keys.sorted() == slow.metrics.keys.sorted()
    && encoded(fast.extraState) == encoded(slow.extraState)
  guard agree else { fatalError("the fast reader and JSONDecoder read a body differently") }
}

/// Decodes `bytes`; when that succeeds, checks that the manifest encodes and decodes again.
private func checkRoundTrip(of bytes: [UInt8]) {
  guard let manifest = try? ManifestFile.decode(bytes) else { return }

  let encoded: [UInt8]
  do {
    encoded = try ManifestFile.encode(manifest)
  } catch {
    fatalError("a decoded manifest failed to encode: \(error)")
  }
  do {
    _ = try ManifestFile.decode(encoded)
  } catch {
    fatalError("a re-encoded manifest failed to decode: \(error)")
  }
}

/// Returns the JSON text of `value`, which compares NaN equal to NaN where `==` does not.
private func encoded(_ value: JSONValue) -> [UInt8] {
  var buffer: [UInt8] = []
  JSONWriter.append(value, to: &buffer)
  return buffer
}
