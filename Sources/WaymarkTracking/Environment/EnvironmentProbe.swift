import Foundation
import WaymarkCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Collects ``EnvironmentMetadata``: the fast facts at once, the slow ones in a second step.
///
/// The fast step reads a few small files and calls `uname`, `sysconf` and `sysctl`. It takes
/// a few milliseconds and starts no process. The slow step runs `git` and `swift --version`
/// as child processes, each with a timeout.
enum EnvironmentProbe {
  /// Seconds each child process of the slow step may run before it is killed.
  static let childTimeoutSeconds = 10.0

  /// Returns the facts that need no child process.
  static func collectFast(workingDirectory: String, fileSystem: any FileSystem)
    -> EnvironmentMetadata
  {
    let processInfo = ProcessInfo.processInfo
    return EnvironmentMetadata(
      swiftCompilerVersion: compilerVersion,
      operatingSystem: operatingSystemName(),
      kernel: kernelInfo(),
      host: ProcessIdentity.hostName,
      cpuModel: cpuModel(),
      cpuCoreCount: processInfo.processorCount,
      activeCpuCoreCount: processInfo.activeProcessorCount,
      memoryByteCount: processInfo.physicalMemory,
      accelerators: accelerators(fileSystem: fileSystem),
      arguments: CommandLine.arguments,
      workingDirectory: workingDirectory,
      packageDependencies: PackageResolved.read(
        at: workingDirectory + "/Package.resolved", fileSystem: fileSystem))
  }

  /// Runs the slow probes and stores their results in `metadata`.
  static func collectSlow(into metadata: inout EnvironmentMetadata, gitDirectory: String) {
    var failures: [String] = []
    if let output = ProcessRunner.run("swift", ["--version"], timeoutSeconds: childTimeoutSeconds) {
      if output.succeeded {
        metadata.swiftToolchainVersion = output.text.split(separator: "\n").first.map(String.init)
      } else {
        failures.append("swift --version \(describeFailure(output))")
      }
    }
    metadata.git = GitProbe.collect(directory: gitDirectory, failures: &failures)
    metadata.probeFailures = failures
    metadata.slowProbesCompleted = true
  }

  /// Describes why a child process did not succeed, for ``EnvironmentMetadata/probeFailures``.
  static func describeFailure(_ output: ProcessRunner.Output) -> String {
    if output.timedOut { return "timed out after \(Int(childTimeoutSeconds)) seconds" }
    if let status = output.exitStatus { return "exited with status \(status)" }
    return "was killed by a signal"
  }

  /// The compiler version from `#if compiler` checks: the newest version the checks know
  /// that the compiler is at least.
  static let compilerVersion: String = {
    #if compiler(>=7.0)
      return ">=7.0"
    #elseif compiler(>=6.4)
      return "6.4"
    #elseif compiler(>=6.3)
      return "6.3"
    #elseif compiler(>=6.2)
      return "6.2"
    #elseif compiler(>=6.1)
      return "6.1"
    #else
      return "6.0"
    #endif
  }()

  private static func operatingSystemName() -> String {
    #if os(Linux)
      if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) {
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
          return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(
            in: CharacterSet(charactersIn: "\"'"))
        }
      }
      return "Linux"
    #else
      return ProcessInfo.processInfo.operatingSystemVersionString
    #endif
  }

  private static func kernelInfo() -> KernelInfo {
    var names = utsname()
    guard uname(&names) == 0 else {
      return KernelInfo(name: "unknown", release: "unknown", version: "unknown", machine: "unknown")
    }
    func field<T>(_ value: T) -> String {
      withUnsafeBytes(of: value) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
    }
    return KernelInfo(
      name: field(names.sysname), release: field(names.release), version: field(names.version),
      machine: field(names.machine))
  }

  private static func cpuModel() -> String? {
    #if canImport(Darwin)
      var size = 0
      guard sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 0 else {
        return nil
      }
      var buffer = [CChar](repeating: 0, count: size)
      guard sysctlbyname("machdep.cpu.brand_string", &buffer, &size, nil, 0) == 0 else {
        return nil
      }
      return String(
        decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    #else
      // /proc files report a size of 0, so they are read to the end instead of by size.
      guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
        return nil
      }
      for line in text.split(separator: "\n")
      where line.hasPrefix("model name") || line.hasPrefix("Model") || line.hasPrefix("cpu model") {
        if let colon = line.firstIndex(of: ":") {
          return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
      }
      return nil
    #endif
  }

  /// Lists NVIDIA GPUs from the driver's `/proc` files, or from `/dev/nvidia<N>` device
  /// nodes when the `/proc` files are not visible, as inside some containers.
  ///
  /// `rootDirectory` is prepended to `/proc` and `/dev`, so tests can point it at a fake tree.
  static func accelerators(fileSystem: any FileSystem, rootDirectory: String = "") -> [Accelerator]
  {
    #if os(Linux)
      var found: [Accelerator] = []
      let gpuDirectory = "\(rootDirectory)/proc/driver/nvidia/gpus"
      if let entries = try? fileSystem.contentsOfDirectory(at: gpuDirectory) {
        for entry in entries {
          let path = "\(gpuDirectory)/\(entry.name)/information"
          guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
          let model = text.split(separator: "\n").first { $0.hasPrefix("Model:") }
          let name = model.map { $0.dropFirst("Model:".count).trimmingCharacters(in: .whitespaces) }
          found.append(Accelerator(name: name ?? "NVIDIA GPU", source: path))
        }
      }
      let deviceDirectory = "\(rootDirectory)/dev"
      if found.isEmpty, let devices = try? fileSystem.contentsOfDirectory(at: deviceDirectory) {
        for device in devices where isNumberedNvidiaDevice(device.name) {
          found.append(
            Accelerator(
              name: "NVIDIA GPU (\(device.name))", source: "\(deviceDirectory)/\(device.name)"))
        }
      }
      if fileSystem.exists(at: "\(deviceDirectory)/kfd") {
        found.append(
          Accelerator(name: "AMD GPU (ROCm kernel driver)", source: "\(deviceDirectory)/kfd"))
      }
      return found
    #else
      return []
    #endif
  }

  private static func isNumberedNvidiaDevice(_ name: String) -> Bool {
    guard name.hasPrefix("nvidia") else { return false }
    let suffix = name.dropFirst("nvidia".count)
    return !suffix.isEmpty && suffix.allSatisfy(\.isASCIIDigit)
  }
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
