import Console
import Foundation
import Workflow

/// The line editor of `reel repl`. On a terminal: raw mode with the keys of a shell —
/// ←/→, Home/End (also Ctrl-A/Ctrl-E), Alt-b/Alt-f (and Ctrl-←/→) by word, Backspace/Delete,
/// Ctrl-W (delete a word), Ctrl-U/Ctrl-K (delete to the start/end), ↑/↓ through history (kept
/// in a file across sessions), Ctrl-R (search the history), Tab (complete, via `completer`),
/// Ctrl-L (clear the screen), Ctrl-C (drop the line), Ctrl-D (quit on an empty line). An
/// entry of several lines is recalled whole and redrawn in place. Elsewhere: plain lines.
final class LineEditor {
    enum Input { case line(String), interrupt, end }

    /// What Tab offers: the candidates for the word that ends at the cursor, and where it starts.
    struct Completion {
        var start: Int
        var candidates: [String]
    }

    let isTerminal = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
    var completer: ((_ text: String, _ cursor: Int) -> Completion)?
    private(set) var history: [String] = []
    private let historyPath: String?
    private static let historyLimit = 1000

    deinit { restore() }

    init(historyPath: String?) {
        self.historyPath = historyPath
        if let historyPath, let text = try? String(contentsOfFile: historyPath, encoding: .utf8) {
            history = text.split(separator: "\n").map { $0.replacingOccurrences(of: "\\n", with: "\n") }.suffix(Self.historyLimit)
        }
    }

    /// `interrupted`: whether a Ctrl-C came as a signal before the editor took the terminal
    /// (the kernel then dropped what was typed with it): the line is dropped, as here.
    func read(prompt: String, continuation: String = "  ... ", interrupted: () -> Bool = { false }) -> Input {
        guard isTerminal else {
            guard let line = readLine(strippingNewline: true) else { return .end }
            return .line(line)
        }
        if original == nil {
            var saved = termios()
            tcgetattr(STDIN_FILENO, &saved)
            original = saved
        }
        setMode(signals: false)
        if interrupted() {
            write(prompt + "^C\r\n")
            setMode(signals: true)
            return .interrupt
        }
        // Between reads (while an entry runs) the terminal stays non-canonical, so what is typed
        // ahead waits as plain bytes — the kernel neither echoes it nor takes Ctrl-D for end of
        // file — and only Ctrl-C is live, as the signal that stops the entry.
        defer { setMode(signals: true) }
        var session = EditSession(prompt: prompt, continuation: continuation, history: history, width: Self.terminalWidth())
        return session.run(editor: self, interrupted: interrupted)
    }

    /// Ctrl-C as a key again (not a signal), as soon as an entry has ended and before its
    /// output shows: a Ctrl-C typed once the output is on the screen then reaches the next
    /// read as a key, with the line typed before it, instead of racing the editor as a signal.
    func takeKeys() {
        setMode(signals: false)  // nothing before the first read, or off a terminal
    }

    /// The terminal as it was before the REPL: call when leaving.
    func restore() {
        guard var saved = original else { return }
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved)
    }

    private var original: termios?

    /// Raw input (no line buffering, echo, or flow control); `signals`: Ctrl-C raises SIGINT.
    private func setMode(signals: Bool) {
        guard var raw = original else { return }
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | IEXTEN | (signals ? 0 : ISIG))
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &raw)  // DRAIN, not FLUSH: keep typed-ahead or pasted input
    }

    /// Remembers an entered line (a multi-line chunk is one entry).
    func remember(_ entry: String) {
        let trimmed = entry.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, history.last != trimmed else { return }
        history.append(trimmed)
        guard let historyPath else { return }
        let line = trimmed.replacingOccurrences(of: "\n", with: "\\n") + "\n"
        if let handle = FileHandle(forWritingAtPath: historyPath) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        } else {
            try? FileManager.default.createDirectory(atPath: (historyPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: historyPath, contents: Data(line.utf8))
        }
    }

    static func terminalWidth() -> Int { StandardStream.output.terminalSize?.columns ?? 80 }

    // MARK: Keys

    enum Key: Equatable {
        case text(Character), enter, tab, backspace, delete
        case left, right, up, down, home, end, wordLeft, wordRight
        case control(UInt8)  // Ctrl-letter, as its byte (1 = Ctrl-A …)
        case deleteWordBack, unknown
    }

    /// The next key; Ctrl-C when `stop` turns true first (asked every 50 ms while idle); nil
    /// at end of input.
    func readKey(orStopWhen stop: () -> Bool) -> Key? {
        var ready = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        while poll(&ready, 1, 50) == 0 {
            if stop() { return .control(3) }
        }
        guard let byte = readByte() else { return nil }
        switch byte {
        case 13, 10: return .enter
        case 9: return .tab
        case 127, 8: return .backspace
        case 27: return escapeSequence()
        case 0x20...0x7E: return .text(Character(Unicode.Scalar(byte)))
        case 0xC0...0xF7:
            var bytes = [byte]
            for _ in 0..<(byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : 1) { if let next = readByte() { bytes.append(next) } }
            return String(validating: bytes, as: UTF8.self)?.first.map(Key.text) ?? .unknown
        case 1...26: return .control(byte)
        default: return .unknown
        }
    }

    /// ESC …: arrows and Home/End in their xterm and VT forms (`ESC [ H`, `ESC O H`, `ESC [ 1 ~`,
    /// `ESC [ 7 ~`), Delete, Ctrl-arrows (`ESC [ 1 ; 5 D`), and Alt-letters (`ESC b`).
    private func escapeSequence() -> Key {
        var ready = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, 30) > 0, let first = readByte() else { return .unknown }  // a lone Escape
        switch first {
        case UInt8(ascii: "b"), UInt8(ascii: "B"): return .wordLeft
        case UInt8(ascii: "f"), UInt8(ascii: "F"): return .wordRight
        case 127, 8: return .deleteWordBack
        case UInt8(ascii: "["), UInt8(ascii: "O"):
            var parameters = ""
            while let next = readByte() {
                let c = Character(Unicode.Scalar(next))
                if c.isNumber || c == ";" { parameters.append(c); continue }
                let modified = parameters.hasSuffix(";5") || parameters.hasSuffix(";3")  // Ctrl or Alt held
                switch c {
                case "A": return .up
                case "B": return .down
                case "C": return modified ? .wordRight : .right
                case "D": return modified ? .wordLeft : .left
                case "H": return .home
                case "F": return .end
                case "~":
                    switch parameters {
                    case "1", "7": return .home
                    case "4", "8": return .end
                    case "3": return .delete
                    default: return .unknown
                    }
                default: return .unknown
                }
            }
            return .unknown
        default: return .unknown
        }
    }

    private func readByte() -> UInt8? {
        var byte: UInt8 = 0
        while true {
            let n = Foundation.read(STDIN_FILENO, &byte, 1)
            if n == 1 { return byte }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }

    func write(_ text: String) {
        StandardStream.output.write(text)
    }
}

/// One entry being edited: the text, the cursor, and what is on the screen.
struct EditSession {
    let prompt: String
    let continuation: String
    let history: [String]
    let width: Int
    var buffer: [Character] = []
    var cursor = 0
    /// Which history entry is shown (history.count: the line being typed) and the draft it hides.
    var recall: Int
    var draft: [Character] = []
    /// Rows between the top of what was drawn and the cursor's row.
    var cursorRow = 0
    var lastKeyWasTab = false

    init(prompt: String, continuation: String, history: [String], width: Int) {
        self.prompt = prompt
        self.continuation = continuation
        self.history = history
        self.width = max(width, 20)
        recall = history.count
    }

    mutating func run(editor: LineEditor, interrupted: () -> Bool) -> LineEditor.Input {
        redraw(editor)
        while let key = editor.readKey(orStopWhen: interrupted) {
            defer { if key != .tab { lastKeyWasTab = false } }
            switch key {
            case .enter:
                cursor = buffer.count
                redraw(editor)
                editor.write("\r\n")
                return .line(String(buffer))
            case .control(3):  // Ctrl-C, typed here or handled as a signal just before
                cursor = buffer.count
                redraw(editor)
                editor.write("^C\r\n")
                return .interrupt
            case .control(4):  // Ctrl-D
                if buffer.isEmpty { editor.write("\r\n"); return .end }
                if cursor < buffer.count { buffer.remove(at: cursor) }
            case .text(let c): buffer.insert(c, at: cursor); cursor += 1
            case .backspace: if cursor > 0 { buffer.remove(at: cursor - 1); cursor -= 1 }
            case .delete: if cursor < buffer.count { buffer.remove(at: cursor) }
            case .left: cursor = max(0, cursor - 1)
            case .right: cursor = min(buffer.count, cursor + 1)
            case .home, .control(1): cursor = lineStart()
            case .end, .control(5): cursor = lineEnd()
            case .wordLeft: cursor = wordStart(before: cursor)
            case .wordRight: cursor = wordEnd(after: cursor)
            case .control(23), .deleteWordBack:  // Ctrl-W, Alt-Backspace
                let start = wordStart(before: cursor)
                buffer.removeSubrange(start..<cursor)
                cursor = start
            case .control(21):  // Ctrl-U
                let start = lineStart()
                buffer.removeSubrange(start..<cursor)
                cursor = start
            case .control(11): buffer.removeSubrange(cursor..<lineEnd())  // Ctrl-K
            case .control(12):  // Ctrl-L
                editor.write("\u{1B}[H\u{1B}[2J")
                cursorRow = 0
            case .up, .control(16): recallEntry(-1)
            case .down, .control(14): recallEntry(+1)
            case .control(18):  // Ctrl-R
                if let found = search(editor: editor, interrupted: interrupted) { return found }
            case .tab: complete(editor)
            default: break
            }
            redraw(editor)
        }
        return .end
    }

    // MARK: Editing

    func lineStart() -> Int {
        var i = cursor
        while i > 0 && buffer[i - 1] != "\n" { i -= 1 }
        return i
    }

    func lineEnd() -> Int {
        var i = cursor
        while i < buffer.count && buffer[i] != "\n" { i += 1 }
        return i
    }

    static func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

    func wordStart(before position: Int) -> Int {
        var i = position
        while i > 0 && !Self.isWord(buffer[i - 1]) { i -= 1 }
        while i > 0 && Self.isWord(buffer[i - 1]) { i -= 1 }
        return i
    }

    func wordEnd(after position: Int) -> Int {
        var i = position
        while i < buffer.count && !Self.isWord(buffer[i]) { i += 1 }
        while i < buffer.count && Self.isWord(buffer[i]) { i += 1 }
        return i
    }

    mutating func recallEntry(_ step: Int) {
        let target = recall + step
        guard target >= 0, target <= history.count else { return }
        if recall == history.count { draft = buffer }
        recall = target
        buffer = target == history.count ? draft : Array(history[target])
        cursor = buffer.count
    }

    /// Tab: the one candidate, or the candidates' common start; a second Tab lists them.
    mutating func complete(_ editor: LineEditor) {
        guard let completer = editor.completer else { return }
        let result = completer(String(buffer), cursor)
        let typed = String(buffer[result.start..<cursor])
        let candidates = result.candidates.filter { $0.hasPrefix(typed) }
        guard !candidates.isEmpty else { return }
        var common = candidates[0]
        for candidate in candidates.dropFirst() { while !candidate.hasPrefix(common) { common.removeLast() } }
        if common.count > typed.count {
            buffer.replaceSubrange(result.start..<cursor, with: Array(common))
            cursor = result.start + common.count
        } else if candidates.count > 1 && lastKeyWasTab {
            // The list goes below the entry; the entry is drawn again under it.
            let end = buffer.count
            let saved = cursor
            cursor = end
            redraw(editor)
            cursor = saved
            editor.write("\r\n" + Self.columns(candidates, width: width) + "\r\n")
            cursorRow = 0
        }
        lastKeyWasTab = true
    }

    static func columns(_ items: [String], width: Int) -> String {
        let cell = (items.map(\.count).max() ?? 0) + 2
        let perRow = max(1, width / cell)
        return stride(from: 0, to: items.count, by: perRow).map { start in
            items[start..<min(start + perRow, items.count)].map { $0.padding(toLength: cell, withPad: " ", startingAt: 0) }.joined()
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\r\n")
    }

    /// Ctrl-R: searches the history backwards as the query is typed; Ctrl-R again finds an
    /// older match; Enter runs the match, Ctrl-C or Ctrl-G gives up, any other key edits it.
    mutating func search(editor: LineEditor, interrupted: () -> Bool) -> LineEditor.Input? {
        var query = ""
        func find(from start: Int) -> Int? {
            guard !query.isEmpty else { return nil }
            var i = start - 1
            while i >= 0 {
                if history[i].contains(query) { return i }
                i -= 1
            }
            return nil
        }
        func show(_ match: Int?) {
            let text = match.map { history[$0] } ?? ""
            clear(editor)
            let shown = "(search) '\(query)'\(match == nil && !query.isEmpty ? " (no match)" : ""): " + text.replacingOccurrences(of: "\n", with: " ⏎ ")
            editor.write("\r" + shown + "\u{1B}[K")
            cursorRow = shown.count / width
        }
        var match: Int?
        show(nil)
        while let key = editor.readKey(orStopWhen: interrupted) {
            switch key {
            case .text(let c):
                // A longer query may still match the entry shown: look from it, inclusive.
                query.append(c)
                match = find(from: (match ?? history.count - 1) + 1)
            case .backspace:
                if !query.isEmpty { query.removeLast() }
                match = find(from: history.count)
            case .control(18):
                if let m = match, let older = find(from: m) { match = older }
            case .control(3), .control(7):
                clear(editor)
                redraw(editor)
                return nil
            case .enter:
                if let m = match { buffer = Array(history[m]); cursor = buffer.count }
                clear(editor)
                redraw(editor)
                editor.write("\r\n")
                return .line(String(buffer))
            default:
                if let m = match { buffer = Array(history[m]); cursor = buffer.count; recall = m }
                clear(editor)
                return nil
            }
            show(match)
        }
        return .end
    }

    // MARK: Drawing

    /// Erases what was drawn and puts the cursor where it began.
    mutating func clear(_ editor: LineEditor) {
        editor.write("\r" + (cursorRow > 0 ? "\u{1B}[\(cursorRow)A" : "") + "\u{1B}[J")
        cursorRow = 0
    }

    /// Draws the entry in place: its first line after the prompt, the others after the
    /// continuation prompt, the cursor where it belongs (also across wrapped rows).
    mutating func redraw(_ editor: LineEditor) {
        var text = "\r" + (cursorRow > 0 ? "\u{1B}[\(cursorRow)A" : "") + "\u{1B}[J"
        var row = 0, column = 0
        var cursorAt = (row: 0, column: 0)
        func put(_ s: String) {
            for c in s {
                text.append(c)
                column += 1
                if column == width { text += "\r\n"; row += 1; column = 0 }
            }
        }
        put(prompt)
        for (i, c) in buffer.enumerated() {
            if i == cursor { cursorAt = (row, column) }
            if c == "\n" {
                text += "\r\n"
                row += 1
                column = 0
                put(continuation)
            } else {
                put(String(c))
            }
        }
        if cursor >= buffer.count { cursorAt = (row, column) }
        if row > cursorAt.row { text += "\u{1B}[\(row - cursorAt.row)A" }
        text += "\r" + (cursorAt.column > 0 ? "\u{1B}[\(cursorAt.column)C" : "")
        editor.write(text)
        cursorRow = cursorAt.row
    }
}
