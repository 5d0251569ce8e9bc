extension RunList {
  /// Renders the list as a table: id, experiment, name, status, last step, duration, tags,
  /// and the best value when a metric was asked for. Unreadable runs follow the table.
  public func renderText() -> String {
    guard !runs.isEmpty || !problems.isEmpty else {
      let scope = experiment.map { "experiment '\($0)' in " } ?? ""
      return "No runs in \(scope)'\(runsDirectory)'.\n"
    }
    var header = ["ID", "EXPERIMENT", "NAME", "STATUS", "STEP", "DURATION"]
    if let metric, let goal { header.append("\(goal == .minimize ? "MIN" : "MAX") \(metric)") }
    header.append("TAGS")
    var table = TextTable(header: header)
    for run in runs {
      var row = [
        run.id, run.experiment, run.name, run.status.rawValue, run.lastStep.map(String.init) ?? "-",
        TextFormat.duration(run.durationSeconds),
      ]
      if metric != nil {
        row.append(run.best.map { "\(TextFormat.number($0.value)) @ \($0.step)" } ?? "-")
      }
      row.append(run.tags.joined(separator: ","))
      table.rows.append(row)
    }
    var text = table.render()
    for problem in problems { text += "unreadable run: \(problem)\n" }
    return text
  }
}
