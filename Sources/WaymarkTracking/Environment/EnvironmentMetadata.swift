/// Facts about the machine, toolchain, process and source tree a run ran with.
///
/// The fast facts are collected when the run opens. The slow ones (``git`` and
/// ``swiftToolchainVersion``) run as child processes in the background and are written to
/// `run.json` when they finish; ``slowProbesCompleted`` is true once that has happened.
public struct EnvironmentMetadata: Sendable, Hashable, Codable {
  /// Swift compiler version the tracker was built with, from `#if compiler` checks, such as
  /// `6.3` (at least 6.3 and below 6.4).
  public var swiftCompilerVersion: String
  /// First line of `swift --version` of the toolchain on `PATH`, when one is found.
  public var swiftToolchainVersion: String?
  /// Operating system name and version, such as `Ubuntu 24.04.1 LTS`.
  public var operatingSystem: String
  /// Kernel facts from `uname`.
  public var kernel: KernelInfo
  /// Host name.
  public var host: String
  /// CPU model name, from `/proc/cpuinfo` on Linux or `sysctl` on macOS.
  public var cpuModel: String?
  /// Number of processor cores the system has.
  public var cpuCoreCount: Int
  /// Number of processor cores this process may use.
  public var activeCpuCoreCount: Int
  /// Physical memory in bytes.
  public var memoryByteCount: UInt64
  /// GPUs and other accelerators visible to the process.
  public var accelerators: [Accelerator]
  /// The process's command-line arguments, the executable first.
  public var arguments: [String]
  /// Working directory of the process.
  public var workingDirectory: String
  /// Pins of `Package.resolved` in the working directory, when the file exists.
  public var packageDependencies: [ResolvedDependency]?
  /// The git checkout of the working directory, when it is one and `git` ran.
  public var git: GitMetadata?
  /// Whether the background probes (git and `swift --version`) have finished.
  public var slowProbesCompleted: Bool
  /// Messages of probes that failed, such as a `git` that timed out.
  public var probeFailures: [String]

  /// Creates metadata; ``EnvironmentProbe`` fills it in for real runs.
  public init(
    swiftCompilerVersion: String, swiftToolchainVersion: String? = nil, operatingSystem: String,
    kernel: KernelInfo, host: String, cpuModel: String?, cpuCoreCount: Int,
    activeCpuCoreCount: Int, memoryByteCount: UInt64, accelerators: [Accelerator],
    arguments: [String], workingDirectory: String,
    packageDependencies: [ResolvedDependency]? = nil, git: GitMetadata? = nil,
    slowProbesCompleted: Bool = false, probeFailures: [String] = []
  ) {
    self.swiftCompilerVersion = swiftCompilerVersion
    self.swiftToolchainVersion = swiftToolchainVersion
    self.operatingSystem = operatingSystem
    self.kernel = kernel
    self.host = host
    self.cpuModel = cpuModel
    self.cpuCoreCount = cpuCoreCount
    self.activeCpuCoreCount = activeCpuCoreCount
    self.memoryByteCount = memoryByteCount
    self.accelerators = accelerators
    self.arguments = arguments
    self.workingDirectory = workingDirectory
    self.packageDependencies = packageDependencies
    self.git = git
    self.slowProbesCompleted = slowProbesCompleted
    self.probeFailures = probeFailures
  }
}
