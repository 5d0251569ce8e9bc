import Foundation

// Entry point of the benchmark runner. Each suite lives in its own folder and is picked by
// the first argument; `--quick` shrinks every workload so the whole run takes about a minute.
let arguments = Array(CommandLine.arguments.dropFirst())
let isQuick = arguments.contains("--quick")
let suites = arguments.filter { !$0.hasPrefix("--") }

print("waymark-benchmarks: suites \(suites.isEmpty ? "all" : suites.joined(separator: ", "))\(isQuick ? " (quick)" : "")")
