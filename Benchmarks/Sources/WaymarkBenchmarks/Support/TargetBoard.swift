/// The performance targets checked in a run, each with the measured value and whether it was
/// met, collected from the suites and printed at the end of the report.
enum TargetBoard {
  struct Row {
    var target: String
    var workload: String
    var measured: String
    var isMet: Bool
  }

  /// Rows in the order the suites recorded them. Only the main flow touches this, one suite
  /// after another.
  nonisolated(unsafe) static var rows: [Row] = []

  static func record(_ target: String, workload: String, measured: String, isMet: Bool) {
    rows.append(Row(target: target, workload: workload, measured: measured, isMet: isMet))
  }

  static func rendered() -> String {
    var table = MarkdownTable(["target", "workload", "measured", "met"])
    for row in rows {
      table.append([row.target, row.workload, row.measured, row.isMet ? "yes" : "no"])
    }
    return "## Targets\n\n" + table.rendered() + "\n"
  }
}
