/// Command-line arguments split into options, flags and positional values.
///
/// Accepts `--name value`, `--name=value` and bare `--flag`; `--` ends options. Each command
/// declares what it accepts, and anything else is a usage error.
struct ParsedArguments {
  private var values: [String: [String]] = [:]
  private var flags: Set<String> = []
  private(set) var positionals: [String] = []

  /// Parses `arguments` for a command that takes the options in `valueOptions` (each needs a
  /// value) and the flags in `flagOptions`.
  init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String>) throws {
    var index = 0
    var optionsEnded = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if optionsEnded || !argument.hasPrefix("--") || argument == "-" {
        positionals.append(argument)
        continue
      }
      if argument == "--" {
        optionsEnded = true
        continue
      }
      var name = String(argument.dropFirst(2))
      var inlineValue: String?
      if let equals = name.firstIndex(of: "=") {
        inlineValue = String(name[name.index(after: equals)...])
        name = String(name[..<equals])
      }
      if flagOptions.contains(name) {
        guard inlineValue == nil else {
          throw UsageError("option --\(name) takes no value")
        }
        flags.insert(name)
      } else if valueOptions.contains(name) {
        if let inlineValue {
          values[name, default: []].append(inlineValue)
        } else {
          guard index < arguments.count else {
            throw UsageError("option --\(name) needs a value")
          }
          values[name, default: []].append(arguments[index])
          index += 1
        }
      } else {
        throw UsageError("unknown option --\(name)")
      }
    }
  }

  /// Whether `--name` was given.
  func flag(_ name: String) -> Bool {
    flags.contains(name)
  }

  /// The last value given for `--name`.
  func value(_ name: String) -> String? {
    values[name]?.last
  }

  /// Every value given for `--name`, in order.
  func allValues(_ name: String) -> [String] {
    values[name] ?? []
  }

  /// The value of `--name` as an integer in `range`, or `defaultValue` when absent.
  func integer<T: FixedWidthInteger>(
    _ name: String, default defaultValue: T?, in range: ClosedRange<T>
  ) throws -> T? {
    guard let text = value(name) else { return defaultValue }
    guard let number = T(text.replacingOccurrences(of: "_", with: "")), range.contains(number)
    else {
      throw UsageError(
        "--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'"
      )
    }
    return number
  }

  /// The value of `--name` as a finite number, or `defaultValue` when absent.
  func number(_ name: String, default defaultValue: Double?) throws -> Double? {
    guard let text = value(name) else { return defaultValue }
    guard let number = Double(text), number.isFinite else {
      throw UsageError("--\(name) must be a finite number, not '\(text)'")
    }
    return number
  }

  /// Exactly `count` positional values, or a usage error naming what is missing.
  func requirePositionals(_ names: [String]) throws -> [String] {
    guard positionals.count >= names.count else {
      throw UsageError("missing \(names[positionals.count]); see --help")
    }
    guard positionals.count == names.count else {
      throw UsageError("unexpected argument '\(positionals[names.count])'; see --help")
    }
    return positionals
  }
}

/// A mistake in how the command was called: exit status 2.
struct UsageError: Error, CustomStringConvertible {
  var description: String

  init(_ description: String) {
    self.description = description
  }
}
