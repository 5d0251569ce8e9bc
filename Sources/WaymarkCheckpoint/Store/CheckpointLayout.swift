import Foundation

/// The names of the entries in a checkpoint store directory.
///
/// A committed checkpoint is `step-<step>` with the step zero-padded to 12 digits. Names
/// starting with a dot are never checkpoints: `.tmp-…` is a save in progress, `.trash-…` a
/// deletion in progress, `.corrupt-…` a damaged checkpoint moved aside, `.lock` the writer
/// lock.
public enum CheckpointLayout {
  static let committedPrefix = "step-"
  static let temporaryPrefix = ".tmp-"
  static let trashPrefix = ".trash-"
  static let quarantinePrefix = ".corrupt-"
  static let lockFileName = ".lock"

  /// Name of the data file that writer `rank` creates.
  static func dataFileName(rank: Int) -> String {
    "rank-" + padded(Int64(rank), width: 5) + ".data"
  }

  /// Directory name of the committed checkpoint for `step`.
  public static func directoryName(step: Int64) -> String {
    committedPrefix + padded(step, width: 12)
  }

  /// Returns the step of a committed checkpoint's directory name, or `nil` for any other
  /// name.
  public static func step(fromDirectoryName name: String) -> Int64? {
    guard name.hasPrefix(committedPrefix) else { return nil }
    let digits = name.dropFirst(committedPrefix.count)
    guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
      return nil
    }
    return Int64(digits)
  }

  /// A fresh name for `prefix` plus the step and a random suffix, so names never collide.
  static func uniqueName(prefix: String, step: Int64) -> String {
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    return prefix + "step-" + padded(step, width: 12) + "-" + suffix
  }

  private static func padded(_ value: Int64, width: Int) -> String {
    let digits = String(value)
    return digits.count >= width
      ? digits : String(repeating: "0", count: width - digits.count) + digits
  }
}
