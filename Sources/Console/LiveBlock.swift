import Support

/// The block of live lines under the script's output on a terminal, redrawn in place: each
/// drawing is erased (cursor up, erase down) before the next one, and every line is fitted
/// to the terminal so that the cursor-up lands where the block began.
struct LiveBlock {
    /// Lines on screen now, to move up over before the next drawing.
    private(set) var drawnLines = 0
    /// Between Ctrl-Z and `fg`: the terminal is the shell's, and nothing is drawn.
    var suspended = false

    static let mostTakesShown = 20

    /// Erases what was drawn.
    mutating func clear(on output: StandardStream) {
        guard drawnLines > 0 else { return }
        output.write("\u{1B}[\(drawnLines)A\u{1B}[J")
        drawnLines = 0
    }

    /// After `fg`: the shell wrote below the old drawing, which is not to be moved over.
    mutating func forget() { drawnLines = 0 }

    /// Draws `takes` (in number order) and the footer below the cursor.
    mutating func draw(_ takes: [LiveTake], footer: String?, on output: StandardStream) {
        guard !suspended, !takes.isEmpty else { return }
        let lines = Self.lines(takes.prefix(Self.mostTakesShown).map(\.blockLine), of: takes.count,
                               footer: footer.map { [Line(head: "  " + $0)] } ?? [],
                               terminal: output.terminalSize ?? (rows: 24, columns: 80))
        output.write(lines.map { $0 + "\n" }.joined())
        drawnLines = lines.count
    }

    /// A line of the live block: when the terminal is narrow the label gives way first, so
    /// the number and the status stay in sight.
    struct Line {
        var head: String
        var label = ""
        var tail = ""
    }

    /// The live block's lines as they fit the terminal: each within its width and all of them
    /// below its height (the first takes of `total`, then "… and N more"). A line that wrapped,
    /// or a block taller than the screen, would leave the next redraw's cursor-up short, and
    /// every redraw would smear a copy of the block above it.
    static func lines(_ takes: [Line], of total: Int, footer: [Line], terminal: (rows: Int, columns: Int)) -> [String] {
        // The cursor's own line stays free, and the top line too: erasing from there would be
        // erasing the whole screen, which tmux (scroll-on-clear) first copies into history.
        let room = max(1, terminal.rows - 2)
        var limit = max(0, min(takes.count, room - footer.count))
        // The line that counts the rest needs a place of its own.
        if total > limit && limit + 1 + footer.count > room { limit = max(0, limit - 1) }
        var lines = Array(takes.prefix(limit))
        if total > limit {
            lines.append(Line(head: limit == 0 ? "  \(total) generations in flight" : "  … and \(total - limit) more"))
        }
        lines += footer
        return lines.suffix(room).map { fitted($0, columns: terminal.columns - 1) }
    }

    /// `line` within `columns` terminal cells: its label cut first, then its end; controls
    /// (a prompt's newline, a gateway's escape sequence) shown as escapes.
    static func fitted(_ line: Line, columns: Int) -> String {
        let line = Line(head: TerminalText.escaped(line.head), label: TerminalText.escaped(line.label), tail: TerminalText.escaped(line.tail))
        let forLabel = columns - cells(line.head) - cells(line.tail)
        if cells(line.label) <= forLabel { return cut(line.head + line.label + line.tail, columns: columns) }
        if forLabel >= 6 { return cut(line.head + cut(line.label, columns: forLabel) + line.tail, columns: columns) }
        return cut(line.head + line.tail, columns: columns)
    }

    /// `text` cut to `columns` terminal cells (wide characters take two), ending in "…" when
    /// cut.
    static func cut(_ text: String, columns: Int) -> String {
        var result = ""
        var used = 0
        for character in text {
            let width = cellWidth(character)
            if used + width > columns {
                while used + 1 > columns, let last = result.popLast() { used -= cellWidth(last) }
                return result + "…"
            }
            result.append(character)
            used += width
        }
        return result
    }

    private static func cells(_ text: String) -> Int { text.reduce(0) { $0 + cellWidth($1) } }

    /// Terminal cells a character takes: two for East Asian wide characters and emoji.
    private static func cellWidth(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first?.value else { return 0 }
        switch scalar {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}
