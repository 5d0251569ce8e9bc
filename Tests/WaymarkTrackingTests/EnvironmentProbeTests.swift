import Foundation
import Testing
import WaymarkCore

@testable import WaymarkTracking

@Suite("Environment probe")
struct EnvironmentProbeTests {
  @Test("fast facts are collected")
  func fastFacts() {
    let metadata = EnvironmentProbe.collectFast(
      workingDirectory: "/", fileSystem: PosixFileSystem())
    #expect(metadata.cpuCoreCount > 0)
    #expect(metadata.memoryByteCount > 0)
    #expect(!metadata.host.isEmpty)
    #expect(!metadata.kernel.release.isEmpty)
    #expect(!metadata.arguments.isEmpty)
    #expect(!metadata.slowProbesCompleted)
    #expect(metadata.packageDependencies == nil)
  }

  #if os(Linux)
    @Test("NVIDIA GPUs are read from the driver's proc files")
    func nvidiaFromProc() async throws {
      try await withTemporaryDirectory { root in
        let gpu = "\(root)/proc/driver/nvidia/gpus/0000:01:00.0"
        try FileManager.default.createDirectory(atPath: gpu, withIntermediateDirectories: true)
        try "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 42\n".write(
          toFile: "\(gpu)/information", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(
          atPath: "\(root)/dev", withIntermediateDirectories: true)
        try "".write(toFile: "\(root)/dev/nvidia0", atomically: true, encoding: .utf8)

        let found = EnvironmentProbe.accelerators(
          fileSystem: PosixFileSystem(), rootDirectory: root)
        #expect(found.map(\.name) == ["NVIDIA H100 80GB HBM3"])
        #expect(found.first?.source == "\(gpu)/information")
      }
    }

    @Test("NVIDIA device nodes are used when proc files are hidden")
    func nvidiaFromDeviceNodes() async throws {
      try await withTemporaryDirectory { root in
        try FileManager.default.createDirectory(
          atPath: "\(root)/dev", withIntermediateDirectories: true)
        for name in ["nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "kfd"] {
          try "".write(toFile: "\(root)/dev/\(name)", atomically: true, encoding: .utf8)
        }
        let found = EnvironmentProbe.accelerators(
          fileSystem: PosixFileSystem(), rootDirectory: root)
        #expect(
          found.map(\.name) == [
            "NVIDIA GPU (nvidia0)", "NVIDIA GPU (nvidia1)", "AMD GPU (ROCm kernel driver)",
          ])
      }
    }
  #endif

  @Test("Package.resolved pins are read in versions 1 and 2")
  func packageResolved() async throws {
    try await withTemporaryDirectory { root in
      let version2 = """
        {"pins":[{"identity":"swift-nio","kind":"remoteSourceControl",
        "location":"https://user:token@github.com/apple/swift-nio.git",
        "state":{"revision":"abc123","version":"2.65.0"}}],"version":2}
        """
      try version2.write(toFile: "\(root)/Package.resolved", atomically: true, encoding: .utf8)
      let pins = try #require(
        PackageResolved.read(at: "\(root)/Package.resolved", fileSystem: PosixFileSystem()))
      #expect(
        pins == [
          ResolvedDependency(
            identity: "swift-nio", location: "https://github.com/apple/swift-nio.git",
            version: "2.65.0",
            revision: "abc123", branch: nil)
        ])

      let version1 = """
        {"object":{"pins":[{"package":"Yams","repositoryURL":"https://github.com/jpsim/Yams",
        "state":{"branch":"main","revision":"def456","version":null}}]},"version":1}
        """
      try version1.write(toFile: "\(root)/Package.resolved", atomically: true, encoding: .utf8)
      let oldPins = try #require(
        PackageResolved.read(at: "\(root)/Package.resolved", fileSystem: PosixFileSystem()))
      #expect(oldPins.first?.identity == "Yams")
      #expect(oldPins.first?.branch == "main")
      #expect(oldPins.first?.version == nil)
    }
  }

  @Test("credentials are removed from remote URLs")
  func credentialsRemoved() {
    #expect(
      GitProbe.removingCredentials(from: "https://x:secret@host/repo.git")
        == "https://host/repo.git")
    #expect(
      GitProbe.removingCredentials(from: "git@github.com:org/repo.git")
        == "git@github.com:org/repo.git")
    #expect(GitProbe.removingCredentials(from: "https://host/a@b") == "https://host/a@b")
  }

  @Test("child process output, exit status and timeout")
  func processRunner() throws {
    let echo = try #require(ProcessRunner.run("echo", ["hello"]))
    #expect(echo.succeeded)
    #expect(echo.text == "hello")
    let failing = try #require(ProcessRunner.run("false", []))
    #expect(failing.exitStatus == 1)
    let slow = try #require(ProcessRunner.run("sleep", ["10"], timeoutSeconds: 0.2))
    #expect(slow.timedOut)
    #expect(slow.exitStatus == nil)
    #expect(ProcessRunner.run("waymark-no-such-program", []) == nil)
    let capped = try #require(
      ProcessRunner.run("head", ["-c", "5000", "/dev/zero"], maxOutputByteCount: 100))
    #expect(capped.standardOutput.count == 100)
    #expect(capped.totalOutputByteCount == 5000)
  }
}
