import WaymarkCheckpoint
import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Converts file-system failures into the ``CheckpointError``s this module throws.
enum SafetensorsIOFailure {
  /// Returns `.notFound` for a missing file and `.io` for any other failure, with `error` as
  /// the underlying cause.
  static func error(_ error: FileSystemError, reading path: String) -> CheckpointError {
    if error.errno == ENOENT {
      return CheckpointError(
        .notFound, "safetensors file '\(path)' does not exist; check the path", path: path,
        underlying: error)
    }
    if error.errno == ELOOP {
      return CheckpointError(
        .invalidArgument,
        "safetensors file '\(path)' is a symbolic link, which Waymark does not follow; pass the path of the file it points to",
        path: path, underlying: error)
    }
    return CheckpointError(
      .io, "reading safetensors file '\(path)' failed; check that it is readable", path: path,
      underlying: error)
  }

  /// Returns `.io` with `error` as the underlying cause.
  static func error(_ error: FileSystemError, writing path: String) -> CheckpointError {
    CheckpointError(
      .io,
      "writing safetensors file '\(path)' failed; check that its directory exists and is writable, and that the disk has space",
      path: path, underlying: error)
  }
}
