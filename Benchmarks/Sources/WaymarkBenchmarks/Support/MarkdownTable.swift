/// A Markdown table built row by row and rendered with aligned pipes.
struct MarkdownTable {
  var headers: [String]
  var rows: [[String]] = []

  init(_ headers: [String]) {
    self.headers = headers
  }

  mutating func append(_ row: [String]) {
    precondition(
      row.count == headers.count, "a row has \(row.count) cells for \(headers.count) columns")
    rows.append(row)
  }

  func rendered() -> String {
    var widths = headers.map(\.count)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      let padded = cells.enumerated().map { index, cell in
        cell + String(repeating: " ", count: widths[index] - cell.count)
      }
      return "| " + padded.joined(separator: " | ") + " |"
    }
    let separator =
      "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"
    return ([line(headers), separator] + rows.map(line)).joined(separator: "\n")
  }
}
