import Foundation
import WaymarkTracking

/// Resolves a RUN argument: a run directory, or a run id searched for under a runs directory.
enum RunLocation {
  static func resolve(_ argument: String, runsDirectory: String) throws -> String {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: argument + "/run.json"),
      FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory),
      isDirectory.boolValue
    {
      return argument
    }
    guard !argument.contains("/") else {
      throw UsageError(
        "'\(argument)' is not a run directory (it has no run.json); pass a run directory or a run id"
      )
    }
    return try RunReader.locateRun(id: argument, in: runsDirectory)
  }
}
