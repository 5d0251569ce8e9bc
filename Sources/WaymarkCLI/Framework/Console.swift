import Foundation
import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where the command writes: results to standard output, progress and errors to standard
/// error. Progress appears only when standard error is a terminal; `NO_COLOR` turns off color.
struct Console: Sendable {
  /// Whether standard error is a terminal, so progress lines may be redrawn.
  let isInteractive: Bool
  /// Whether to use ANSI color.
  let usesColor: Bool

  init() {
    isInteractive = isatty(STDERR_FILENO) == 1
    usesColor = isInteractive && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
  }

  /// Writes `text` and a newline to standard output.
  func print(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }

  /// Writes `value` as pretty JSON to standard output.
  func printJSON(_ value: some Encodable) throws {
    let data = try JSONCoding.encoder(pretty: true).encode(value)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
  }

  /// Writes an error line to standard error.
  func error(_ text: String) {
    clearProgress()
    FileHandle.standardError.write(Data((styled("error:", code: "31") + " " + text + "\n").utf8))
  }

  /// Writes a note line to standard error.
  func note(_ text: String) {
    clearProgress()
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// Redraws the one-line progress display; does nothing when not on a terminal.
  func progress(_ text: String) {
    guard isInteractive else { return }
    FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
  }

  /// Erases the progress line.
  func clearProgress() {
    guard isInteractive else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
  }

  /// Wraps `text` in an ANSI color when color is on.
  func styled(_ text: String, code: String) -> String {
    usesColor ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
  }
}
