import CEditLine
import CEditLineShim
import Console
import Foundation
import Workflow

/// The line editor of `reel repl`. On a terminal it is libedit (editline(3): el_init, el_wgets,
/// el_set; history(3)) with its emacs keys — ←/→, Home/End (Ctrl-A/Ctrl-E), Alt-b/Alt-f (and
/// Ctrl-←/→) by word, Backspace/Delete, Ctrl-W, Ctrl-U/Ctrl-K, ↑/↓ through history, Ctrl-R
/// (incremental search), Ctrl-L — which draws wide characters (CJK, emoji) at their width.
/// reel adds Tab (complete, via `completer`), Ctrl-C (drop the line), Ctrl-D (quit on an empty
/// line) and the history file. Elsewhere (piped input): plain lines.
final class LineEditor {
    enum Input { case line(String), interrupt, end }

    /// What Tab offers: the candidates for the word that ends at the cursor, and where it
    /// starts (both counted in Characters of the line).
    struct Completion {
        var start: Int
        var candidates: [String]
    }

    let isTerminal = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
    var completer: ((_ text: String, _ cursor: Int) -> Completion)?
    private let historyPath: String?
    private static let historyLimit: Int32 = 1000
    private var lastEntry: String?

    private var editor: OpaquePointer?
    private var history: OpaquePointer?
    private var original: termios?
    /// The prompt libedit draws, kept alive for its prompt callback.
    private var prompt: UnsafeMutablePointer<CChar>?
    /// While a line is read: whether a Ctrl-C came as a signal (asked every 50 ms while idle).
    private var interrupted: () -> Bool = { false }
    /// Ctrl-C ended the line being read.
    private var dropped = false
    /// The line and cursor of a Tab that completed nothing: a second Tab there lists.
    private var unfinishedTab: (text: String, cursor: Int)?

    init(historyPath: String?) {
        self.historyPath = historyPath
        guard isTerminal else { return }
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        original = saved
        // libedit measures and writes characters through the C locale: a UTF-8 one, so wide
        // characters take their two columns (LC_CTYPE only; numbers keep the C locale Lua needs).
        if setlocale(LC_CTYPE, "").map({ String(cString: $0) })?.range(of: "utf-?8", options: [.regularExpression, .caseInsensitive]) == nil {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        history = reel_history_open(Self.historyLimit)
        editor = reel_editline_open("reel", Unmanaged.passUnretained(self).toOpaque(), history,
                                    { LineEditor.of($0)?.prompt },
                                    { editor, character in LineEditor.of(editor)?.readCharacter(into: character) ?? -1 },
                                    { editor, _ in LineEditor.of(editor)?.complete() ?? UInt8(CC_ERROR) },
                                    { editor, _ in LineEditor.of(editor)?.dropLine() ?? UInt8(CC_ERROR) })
        if let historyPath, let text = try? String(contentsOfFile: historyPath, encoding: .utf8) {
            for line in text.split(separator: "\n").suffix(Int(Self.historyLimit)) {
                let entry = line.replacingOccurrences(of: "\\n", with: "\n")
                reel_history_enter(history, entry)
                lastEntry = entry
            }
        }
    }

    deinit {
        if let editor { el_end(editor) }
        if let history { history_end(history) }
        free(prompt)
        restore()
    }

    private static func of(_ editor: OpaquePointer?) -> LineEditor? {
        guard let editor, let client = reel_editline_client(editor) else { return nil }
        return Unmanaged<LineEditor>.fromOpaque(client).takeUnretainedValue()
    }

    /// `interrupted`: whether a Ctrl-C came as a signal before the editor took the terminal
    /// (the kernel then dropped what was typed with it): the line is dropped, as here.
    func read(prompt: String, interrupted: @escaping () -> Bool = { false }) -> Input {
        guard let editor else {
            guard let line = readLine(strippingNewline: true) else { return .end }
            return .line(line)
        }
        takeKeys()
        // Between reads (while an entry runs) the terminal stays non-canonical, so what is typed
        // ahead waits as plain bytes — the kernel neither echoes it nor takes Ctrl-D for end of
        // file — and only Ctrl-C is live, as the signal that stops the entry.
        defer { setMode(signals: true) }
        if interrupted() {
            write(prompt + "^C\r\n")
            return .interrupt
        }
        free(self.prompt)
        self.prompt = strdup(prompt)
        self.interrupted = interrupted
        dropped = false
        unfinishedTab = nil
        defer { self.interrupted = { false } }
        el_resize(editor)  // the window may have changed while an entry ran
        var count: Int32 = 0
        guard let line = el_wgets(editor, &count), count > 0 else {
            write("\r\n")
            return .end
        }
        if dropped { return .interrupt }
        var text = String(String.UnicodeScalarView(UnsafeBufferPointer(start: line, count: Int(count)).compactMap { Unicode.Scalar(UInt32(bitPattern: $0)) }))
        if text.hasSuffix("\n") { text.removeLast() }
        return .line(text)
    }

    /// Ctrl-C as a key again (not a signal), as soon as an entry has ended and before its
    /// output shows: a Ctrl-C typed once the output is on the screen then reaches the next
    /// read as a key, with the line typed before it, instead of racing the editor as a signal.
    func takeKeys() {
        setMode(signals: false)  // nothing off a terminal
    }

    /// The terminal as it was before the REPL: call when leaving.
    func restore() {
        guard var saved = original else { return }
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved)
    }

    /// Raw input (no line buffering, echo, or flow control); `signals`: Ctrl-C raises SIGINT.
    /// libedit sets its own mode while it reads and puts back the cooked one it found at start.
    private func setMode(signals: Bool) {
        guard var raw = original else { return }
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | IEXTEN | (signals ? 0 : ISIG))
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &raw)  // DRAIN, not FLUSH: keep typed-ahead or pasted input
    }

    /// Remembers an entered line (a multi-line chunk is one entry), in the file as one line
    /// with its line breaks written `\n`.
    func remember(_ entry: String) {
        let trimmed = entry.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, lastEntry != trimmed else { return }
        lastEntry = trimmed
        if let history { reel_history_enter(history, trimmed) }
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

    static func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

    private func write(_ text: String) {
        fflush(nil)  // after what libedit has buffered on stdout
        StandardStream.output.write(text)
    }

    // MARK: Called by libedit

    /// The next character, for el_wgets; Ctrl-C when `interrupted` turns true first; 0 at end
    /// of input.
    private func readCharacter(into character: UnsafeMutablePointer<wchar_t>?) -> Int32 {
        var ready = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        while poll(&ready, 1, 50) <= 0 {
            if interrupted() {
                character?.pointee = 3
                return 1
            }
        }
        guard let first = readByte() else { return 0 }
        var bytes = [first]
        let following = first >= 0xF0 ? 3 : first >= 0xE0 ? 2 : first >= 0xC0 ? 1 : 0
        for _ in 0..<following { if let next = readByte() { bytes.append(next) } }
        let scalar = String(validating: bytes, as: UTF8.self)?.unicodeScalars.first ?? "\u{FFFD}"
        character?.pointee = wchar_t(bitPattern: scalar.value)
        return 1
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

    /// Ctrl-C: shows `^C` after the line and ends it (through libedit's own Enter, which puts
    /// the cursor below the entry however many rows it took); `read` then drops it.
    private func dropLine() -> UInt8 {
        guard let editor, let line = el_wline(editor)?.pointee else { return UInt8(CC_ERROR) }
        dropped = true
        _ = el_cursor(editor, Int32(line.lastchar - line.cursor))
        _ = el_winsertstr(editor, Self.wide("^C"))
        el_wpush(editor, Self.wide("\n"))
        return UInt8(CC_REFRESH)
    }

    /// Tab: the one candidate, or the candidates' common start; a second Tab lists them.
    private func complete() -> UInt8 {
        guard let editor, let completer, let line = el_wline(editor)?.pointee, let start = line.buffer else { return UInt8(CC_ERROR) }
        let scalars = UnsafeBufferPointer(start: start, count: line.lastchar - start).compactMap { Unicode.Scalar(UInt32(bitPattern: $0)) }
        let text = String(String.UnicodeScalarView(scalars))
        let cursor = String(String.UnicodeScalarView(scalars[..<(line.cursor - start)])).count
        let result = completer(text, cursor)
        let typed = String(Array(text)[result.start..<cursor])
        let candidates = result.candidates.filter { $0.hasPrefix(typed) }
        guard !candidates.isEmpty else { return UInt8(CC_NORM) }
        var common = candidates[0]
        for candidate in candidates.dropFirst() { while !candidate.hasPrefix(common) { common.removeLast() } }
        if common.count > typed.count {
            el_deletestr(editor, Int32(typed.unicodeScalars.count))
            _ = el_winsertstr(editor, Self.wide(common))
            unfinishedTab = nil
            return UInt8(CC_REFRESH)
        }
        guard candidates.count > 1 else { return UInt8(CC_NORM) }
        guard let previous = unfinishedTab, previous == (text, cursor) else {
            unfinishedTab = (text, cursor)
            return UInt8(CC_NORM)
        }
        // The list goes below the entry, and libedit draws the entry again under it.
        unfinishedTab = nil
        write("\r\n" + Self.columns(candidates, width: StandardStream.output.terminalSize?.columns ?? 80) + "\r\n")
        return UInt8(CC_REDISPLAY)
    }

    static func columns(_ items: [String], width: Int) -> String {
        let cell = (items.map(\.count).max() ?? 0) + 2
        let perRow = max(1, width / cell)
        return stride(from: 0, to: items.count, by: perRow).map { start in
            items[start..<min(start + perRow, items.count)].map { $0.padding(toLength: cell, withPad: " ", startingAt: 0) }.joined()
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\r\n")
    }

    private static func wide(_ text: String) -> [wchar_t] { text.unicodeScalars.map { wchar_t(bitPattern: $0.value) } + [0] }
}
