import Foundation
import WaymarkCore

#if canImport(Glibc)
  import Glibc
#endif

/// Returns seconds elapsed while `body` runs, by the monotonic clock.
func secondsElapsed(_ body: () throws -> Void) rethrows -> Double {
  let start = MonotonicClock.nanoseconds()
  try body()
  return Double(MonotonicClock.nanoseconds() - start) / 1e9
}

/// Returns seconds elapsed while `body` runs, by the monotonic clock.
func secondsAwaiting(_ body: () async throws -> Void) async rethrows -> Double {
  let start = MonotonicClock.nanoseconds()
  try await body()
  return Double(MonotonicClock.nanoseconds() - start) / 1e9
}

/// Summary of repeated timings in seconds.
struct Timings: Sendable {
  var samples: [Double]

  var median: Double { percentile(0.5) }
  var p99: Double { percentile(0.99) }
  var max: Double { samples.max() ?? .nan }
  var mean: Double { samples.isEmpty ? .nan : samples.reduce(0, +) / Double(samples.count) }

  /// Returns the nearest-rank percentile, `fraction` in 0...1.
  func percentile(_ fraction: Double) -> Double {
    guard !samples.isEmpty else { return .nan }
    let sorted = samples.sorted()
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank))]
  }
}

/// Resident memory of this process, from `/proc/self/status` on Linux.
enum ProcessMemory {
  /// Resets the peak resident size (`VmHWM`) to the current resident size. Returns false
  /// where the kernel does not allow it.
  @discardableResult
  static func resetPeak() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    return (try? handle.write(contentsOf: Data("5".utf8))) != nil
  }

  /// Makes glibc's malloc map every allocation of 1 MiB or more on its own and unmap it when
  /// freed; does nothing elsewhere. It cannot be undone within the process.
  ///
  /// By default glibc raises that threshold to the size of the largest block freed, up to
  /// 32 MiB, and then serves such blocks from per-thread arenas. Swift tasks hop between
  /// threads, so a 14 MiB array freed on one thread was not reused by the next one allocated
  /// on another. The 4 GiB stall suite reached 19 to 24 GB resident for about 9 GB of live
  /// arrays and was killed for lack of memory. With a fixed threshold it peaks at 16.8 GB.
  static func mapLargeAllocationsSeparately() {
    // M_MMAP_THRESHOLD in glibc's malloc.h, which Swift's Glibc module does not import.
    let mmapThresholdParameter: Int32 = -3
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    _ = mallopt(mmapThresholdParameter, 1 << 20)
  }

  /// Peak resident bytes since the last reset, or `nil` where unknown.
  static var peakResidentByteCount: Int? { statusField("VmHWM:") }

  /// Current resident bytes, or `nil` where unknown.
  static var residentByteCount: Int? { statusField("VmRSS:") }

  private static func statusField(_ name: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
      return nil
    }
    for line in text.split(separator: "\n") where line.hasPrefix(name) {
      let digits = line.dropFirst(name.count).split(whereSeparator: \.isWhitespace).first
      return digits.flatMap { Int($0) }.map { $0 * 1024 }
    }
    return nil
  }
}

/// The file-system helpers the benchmarks need beyond the library.
enum BenchmarkFiles {
  /// Drops every regular file under `path` from the page cache with
  /// `posix_fadvise(POSIX_FADV_DONTNEED)`. The files must already be fsynced: the kernel keeps
  /// dirty pages. Returns false when any file could not be advised.
  @discardableResult
  static func dropFromPageCache(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      return false
    }
    let files: [String]
    if isDirectory.boolValue {
      let names = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
      files = names.map { path + "/" + $0 }
    } else {
      files = [path]
    }
    var succeeded = true
    for file in files {
      let descriptor = open(file, O_RDONLY)
      guard descriptor >= 0 else {
        succeeded = false
        continue
      }
      if posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_DONTNEED)) != 0 { succeeded = false }
      close(descriptor)
    }
    return succeeded
  }

  /// Total bytes of the regular files under `path`.
  static func byteCount(under path: String) -> Int {
    let names = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
    return names.reduce(0) { total, name in
      let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
      let isFile = attributes?[.type] as? FileAttributeType == .typeRegular
      return total + (isFile ? (attributes?[.size] as? Int ?? 0) : 0)
    }
  }

  /// Opens `path` and fsyncs it.
  static func synchronize(_ path: String) throws {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw BenchmarkError("cannot open '\(path)' to fsync it") }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else { throw BenchmarkError("fsync of '\(path)' failed") }
  }

  /// Creates an empty directory at `path`, removing what was there.
  static func freshDirectory(_ path: String) throws {
    try? FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }
}

/// A benchmark setup failure, with what failed.
struct BenchmarkError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Formats a byte count with a binary unit: `64 MiB`, `1.5 GiB`.
func formatByteCount(_ byteCount: Int) -> String {
  let value = Double(byteCount)
  if value >= Double(1 << 30) { return trimmed(value / Double(1 << 30)) + " GiB" }
  if value >= Double(1 << 20) { return trimmed(value / Double(1 << 20)) + " MiB" }
  if value >= Double(1 << 10) { return trimmed(value / Double(1 << 10)) + " KiB" }
  return "\(byteCount) B"
}

private func trimmed(_ value: Double) -> String {
  value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
}

/// Formats seconds as milliseconds with three significant figures.
func formatMilliseconds(_ seconds: Double) -> String {
  guard seconds.isFinite else { return "–" }
  let milliseconds = seconds * 1000
  if milliseconds >= 100 { return String(format: "%.0f ms", milliseconds) }
  if milliseconds >= 10 { return String(format: "%.1f ms", milliseconds) }
  if milliseconds >= 1 { return String(format: "%.2f ms", milliseconds) }
  return String(format: "%.3f ms", milliseconds)
}

/// Formats a throughput of `byteCount` bytes in `seconds` as decimal GB/s.
func formatThroughput(_ byteCount: Int, _ seconds: Double) -> String {
  guard seconds > 0, seconds.isFinite else { return "–" }
  return String(format: "%.2f GB/s", Double(byteCount) / seconds / 1e9)
}

/// Formats a ratio with two decimals and a trailing ×.
func formatRatio(_ value: Double) -> String {
  guard value.isFinite else { return "–" }
  return String(format: "%.2f×", value)
}

/// Formats a fraction such as stored over raw bytes with three decimals.
func formatFraction(_ value: Double) -> String {
  guard value.isFinite else { return "–" }
  return String(format: "%.3f", value)
}

/// Returns the CPU seconds (user plus system) this process has used so far, on all threads.
func processCPUSeconds() -> Double {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
  let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
  return user + system
}
