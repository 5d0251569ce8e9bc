import WaymarkCheckpoint
import WaymarkSafetensors

/// Bytes of the data section that a header given as bare JSON must tile exactly.
private let jsonDataByteCount = 16

/// Parses arbitrary bytes twice: as a whole safetensors file, and as a bare JSON header.
///
/// Any thrown error is a correct rejection. A crash, a sanitizer report, or a file that
/// decodes but does not survive an encode and decode unchanged is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: start, count: count))

  if let file = try? SafetensorsFile(decoding: bytes) {
    let encoded: [UInt8]
    do {
      encoded = try file.encoded()
    } catch {
      fatalError("a decoded safetensors file failed to encode: \(error)")
    }
    let decoded: SafetensorsFile
    do {
      decoded = try SafetensorsFile(decoding: encoded)
    } catch {
      fatalError("a re-encoded safetensors file failed to decode: \(error)")
    }
    precondition(decoded == file, "a safetensors file changed in an encode and decode")
  }

  _ = try? SafetensorsHeader(parsingJSON: bytes, dataByteCount: jsonDataByteCount)
  return 0
}
