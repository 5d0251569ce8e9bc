@preconcurrency import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Turns the first SIGINT or SIGTERM into a stop request; a second one ends the process at
/// once with the signal's default action.
///
/// While the monitor is active the two signals do not kill the process, so the training loop
/// can save a final checkpoint and the run can end as `interrupted`.
///
/// `@unchecked Sendable` is safe because `sources` is set once in `init` and dispatch sources
/// are thread-safe; the received signal is an atomic.
final class SignalMonitor: @unchecked Sendable {
  private let sources: [any DispatchSourceSignal]
  private let latch = SignalLatch()

  /// Starts watching SIGINT and SIGTERM; calls `onStop` once, on the first signal.
  init(onStop: @escaping @Sendable (Int32) -> Void) {
    let queue = DispatchQueue(label: "waymark.signals")
    var sources: [any DispatchSourceSignal] = []
    let latch = self.latch
    for signalNumber in [SIGINT, SIGTERM] {
      setSignalAction(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
      source.setEventHandler {
        let (exchanged, _) = latch.value.compareExchange(
          expected: 0, desired: signalNumber, ordering: .relaxed)
        if exchanged {
          onStop(signalNumber)
        } else {
          setSignalAction(signalNumber, SIG_DFL)
          raise(signalNumber)
        }
      }
      source.resume()
      sources.append(source)
    }
    self.sources = sources
  }

  /// The first signal received, or `nil`.
  var receivedSignalNumber: Int32? {
    let value = latch.value.load(ordering: .relaxed)
    return value == 0 ? nil : value
  }

  /// Stops watching and restores the default actions.
  func cancel() {
    for source in sources {
      source.cancel()
    }
    setSignalAction(SIGINT, SIG_DFL)
    setSignalAction(SIGTERM, SIG_DFL)
  }
}

/// The first signal number received; 0 until then.
private final class SignalLatch: Sendable {
  let value = Atomic<Int32>(0)
}

private func setSignalAction(_ signalNumber: Int32, _ action: sighandler_t?) {
  #if canImport(Glibc)
    _ = Glibc.signal(signalNumber, action)
  #else
    _ = Darwin.signal(signalNumber, action)
  #endif
}
