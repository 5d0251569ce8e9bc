#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Seconds since the Unix epoch from `CLOCK_REALTIME`, without allocating a `Date`.
enum WallClock {
  /// Returns the current wall time in seconds since the Unix epoch.
  @inline(__always)
  static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }
}
