import WaymarkCore

extension RunComparison {
  /// Renders the comparison as three tables: the runs, the config paths that differ, and
  /// each metric's final and best value per run.
  public func renderText() -> String {
    var runTable = TextTable(header: ["RUN", "NAME", "EXPERIMENT", "STATUS", "STEP", "CONFIG"])
    for run in runs {
      runTable.rows.append([
        run.id, run.name, run.experiment, run.status.rawValue, run.lastStep.map(String.init) ?? "-",
        String(run.configHash.prefix(19)),
      ])
    }
    var text = runTable.render()

    text += "\nConfig differences\n"
    if configDifferences.isEmpty {
      text += "  (configs are equal)\n"
    } else {
      var table = TextTable(header: ["  PATH"] + runs.map(\.id))
      for difference in configDifferences {
        let cells = runs.map { run in
          difference.values[run.id].map { CanonicalJSON.string(of: $0) } ?? "(missing)"
        }
        table.rows.append(["  \(difference.path)"] + cells)
      }
      text += table.render()
    }

    text += "\nMetrics (final / best)\n"
    if metrics.isEmpty {
      text += "  (none)\n"
    } else {
      var table = TextTable(header: ["  METRIC"] + runs.map(\.id))
      for metric in metrics {
        let cells = runs.map { run -> String in
          guard let final = metric.final[run.id] else { return "-" }
          let best = metric.best[run.id].map { value in
            "\(TextFormat.number(value)) @ \(metric.bestStep[run.id] ?? 0)"
          }
          return "\(TextFormat.number(final)) / \(best ?? "-")"
        }
        let label = "  \(metric.name) (\(metric.goal == .minimize ? "min" : "max"))"
        table.rows.append([label] + cells)
      }
      text += table.render()
    }
    return text
  }
}
