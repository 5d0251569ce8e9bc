/// Reads the commit, branch, remote and dirty flag of a git checkout by running `git`.
enum GitProbe {
  /// Returns the checkout's metadata, or `nil` when `directory` is not inside a git work
  /// tree or `git` is not installed. Failures of single commands go to `failures`.
  static func collect(directory: String, failures: inout [String]) -> GitMetadata? {
    let timeout = EnvironmentProbe.childTimeoutSeconds
    func git(_ arguments: [String]) -> ProcessRunner.Output? {
      ProcessRunner.run("git", ["-C", directory] + arguments, timeoutSeconds: timeout)
    }

    guard let inside = git(["rev-parse", "--is-inside-work-tree"]) else {
      failures.append("git could not be started; install git to record the commit")
      return nil
    }
    guard inside.succeeded, inside.text == "true" else { return nil }

    var metadata = GitMetadata(commit: nil, branch: nil, remote: nil, isDirty: nil)
    if let output = git(["rev-parse", "HEAD"]) {
      if output.succeeded {
        metadata.commit = output.text
      } else {
        failures.append("git rev-parse HEAD \(EnvironmentProbe.describeFailure(output))")
      }
    }
    if let output = git(["rev-parse", "--abbrev-ref", "HEAD"]), output.succeeded {
      metadata.branch = output.text
    }
    if let output = git(["remote"]), output.succeeded {
      let remotes = output.text.split(separator: "\n").map(String.init)
      if let name = remotes.contains("origin") ? "origin" : remotes.first,
        let url = git(["remote", "get-url", name]), url.succeeded
      {
        metadata.remote = removingCredentials(from: url.text)
      }
    }
    if let output = git(["status", "--porcelain", "--untracked-files=no"]) {
      if output.succeeded {
        metadata.isDirty = output.totalOutputByteCount > 0
      } else {
        failures.append("git status \(EnvironmentProbe.describeFailure(output))")
      }
    }
    return metadata
  }

  /// Removes a `user:password@` part from a URL, so tokens in remotes never reach `run.json`.
  static func removingCredentials(from url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else { return url }
    let rest = url[schemeEnd.upperBound...]
    let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
    guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
    return String(url[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
  }
}
