/// Encodes TensorBoard `Event` protocol buffers by hand and frames them as TFRecords.
///
/// Only the fields scalars need are written, with their numbers from TensorBoard's
/// `event.proto` and `summary.proto` (checked against tensorboard 2.21):
/// - `Event`: `wall_time` double = 1, `step` int64 = 2, `file_version` string = 3,
///   `summary` Summary = 5, `session_log` SessionLog = 7.
/// - `Summary`: repeated `value` Summary.Value = 1.
/// - `Summary.Value`: `tag` string = 1, `simple_value` float = 2.
/// - `SessionLog`: `status` enum = 1, where `START` is 1.
///
/// A TFRecord is the data's length as a little-endian UInt64, the masked CRC-32C of those
/// 8 bytes, the data, and the masked CRC-32C of the data.
enum TensorBoardEventEncoder {
  /// The `file_version` of the first record; version 2 makes TensorBoard purge stale steps
  /// when it reads a `SessionLog.START` event.
  static let fileVersion = "brain.Event:2"

  /// Appends the framed record of the event that starts every file.
  static func appendFileVersionRecord(wallTime: Double, to output: inout [UInt8]) {
    var event: [UInt8] = []
    appendDouble(field: 1, wallTime, to: &event)
    appendBytes(field: 3, Array(fileVersion.utf8), to: &event)
    appendRecord(event, to: &output)
  }

  /// Appends the framed record of a `SessionLog.START` event at `step`, which makes
  /// TensorBoard drop every earlier value at `step` or later.
  static func appendSessionStartRecord(wallTime: Double, step: Int64, to output: inout [UInt8]) {
    var event: [UInt8] = []
    appendDouble(field: 1, wallTime, to: &event)
    appendVarintField(field: 2, UInt64(bitPattern: step), to: &event)
    let sessionLog: [UInt8] = [fieldKey(1, wireType: 0), 1]
    appendBytes(field: 7, sessionLog, to: &event)
    appendRecord(event, to: &output)
  }

  /// Appends the framed record of a scalar summary event holding every value of `record`.
  ///
  /// Values become 32-bit floats, as `simple_value` is a float in the proto. The event is
  /// written straight into `output`, with its length computed first, so encoding allocates
  /// nothing beyond the growth of `output`.
  static func appendScalarRecord(_ record: MetricRecord, to output: inout [UInt8]) {
    var summaryLength = 0
    record.forEachValue { name, _ in
      let valueLength = scalarValueLength(tagLength: name.utf8.count)
      summaryLength += 1 + varintLength(UInt64(valueLength)) + valueLength
    }
    let step = UInt64(bitPattern: record.step)
    let eventLength =
      9 + 1 + varintLength(step) + 1 + varintLength(UInt64(summaryLength)) + summaryLength

    let headerStart = output.count
    appendLittleEndian(UInt64(eventLength), to: &output)
    let lengthChecksum = output.withUnsafeBytes { bytes in
      CRC32C.maskedChecksum(
        UnsafeRawBufferPointer(rebasing: bytes[headerStart..<(headerStart + 8)]))
    }
    appendLittleEndian(lengthChecksum, to: &output)

    let eventStart = output.count
    appendDouble(field: 1, record.wallTime, to: &output)
    appendVarintField(field: 2, step, to: &output)
    output.append(fieldKey(5, wireType: 2))
    appendVarint(UInt64(summaryLength), to: &output)
    record.forEachValue { name, value in
      let tagLength = name.utf8.count
      output.append(fieldKey(1, wireType: 2))
      appendVarint(UInt64(scalarValueLength(tagLength: tagLength)), to: &output)
      output.append(fieldKey(1, wireType: 2))
      appendVarint(UInt64(tagLength), to: &output)
      output.append(contentsOf: name.utf8)
      output.append(fieldKey(2, wireType: 5))
      appendLittleEndian(Float(value).bitPattern, to: &output)
    }
    let dataChecksum = output.withUnsafeBytes { bytes in
      CRC32C.maskedChecksum(UnsafeRawBufferPointer(rebasing: bytes[eventStart...]))
    }
    appendLittleEndian(dataChecksum, to: &output)
  }

  /// Length of an encoded `Summary.Value` with a tag of `tagLength` bytes and a
  /// `simple_value`.
  private static func scalarValueLength(tagLength: Int) -> Int {
    1 + varintLength(UInt64(tagLength)) + tagLength + 5
  }

  private static func varintLength(_ value: UInt64) -> Int {
    max(1, (64 - value.leadingZeroBitCount + 6) / 7)
  }

  /// Appends `data` framed as one TFRecord.
  static func appendRecord(_ data: [UInt8], to output: inout [UInt8]) {
    var length: [UInt8] = []
    appendLittleEndian(UInt64(data.count), to: &length)
    output.append(contentsOf: length)
    appendLittleEndian(length.withUnsafeBytes(CRC32C.maskedChecksum), to: &output)
    output.append(contentsOf: data)
    appendLittleEndian(data.withUnsafeBytes(CRC32C.maskedChecksum), to: &output)
  }

  private static func fieldKey(_ field: UInt8, wireType: UInt8) -> UInt8 {
    field << 3 | wireType
  }

  private static func appendDouble(field: UInt8, _ value: Double, to output: inout [UInt8]) {
    output.append(fieldKey(field, wireType: 1))
    appendLittleEndian(value.bitPattern, to: &output)
  }

  private static func appendVarintField(field: UInt8, _ value: UInt64, to output: inout [UInt8]) {
    output.append(fieldKey(field, wireType: 0))
    appendVarint(value, to: &output)
  }

  private static func appendBytes(field: UInt8, _ bytes: [UInt8], to output: inout [UInt8]) {
    output.append(fieldKey(field, wireType: 2))
    appendVarint(UInt64(bytes.count), to: &output)
    output.append(contentsOf: bytes)
  }

  static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
    var remaining = value
    while remaining >= 0x80 {
      output.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
      remaining >>= 7
    }
    output.append(UInt8(remaining))
  }

  private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to output: inout [UInt8])
  {
    withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
  }
}
