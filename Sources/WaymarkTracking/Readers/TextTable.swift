/// A plain-text table with left-aligned columns separated by two spaces.
struct TextTable {
  var header: [String]
  var rows: [[String]] = []

  /// Returns the table as lines; each line ends with a newline.
  func render() -> String {
    let allRows = [header] + rows
    let columnCount = allRows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columnCount)
    for row in allRows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    var text = ""
    for row in allRows {
      var line = ""
      for (index, cell) in row.enumerated() {
        if index == row.count - 1 {
          line += cell
        } else {
          line += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
        }
      }
      text += line + "\n"
    }
    return text
  }
}
