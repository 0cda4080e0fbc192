import Foundation
import Workflow

/// A small line editor for `reel repl`. On a terminal: raw mode with ←/→, Home/End
/// (Ctrl-A/Ctrl-E), Backspace/Delete, Ctrl-U (clear), ↑/↓ through history (kept in a file),
/// Ctrl-C (drop the line) and Ctrl-D (quit on an empty line). Elsewhere: plain lines.
final class LineEditor {
    enum Input { case line(String), interrupt, end }

    let isTerminal = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
    private var history: [String] = []
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
    func read(prompt: String, interrupted: () -> Bool = { false }) -> Input {
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
        return edit(prompt: prompt, interrupted: interrupted)
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
            FileManager.default.createFile(atPath: historyPath, contents: Data(line.utf8))
        }
    }

    /// `interrupted` is asked again while waiting for a key: a Ctrl-C whose signal is handled
    /// just after the editor took the terminal still drops the line.
    private func edit(prompt: String, interrupted: () -> Bool) -> Input {
        var buffer: [Character] = []
        var cursor = 0
        var recall = history.count  // history.count = the line being typed
        var draft: [Character] = []
        func redraw() {
            var text = "\r" + prompt + String(buffer) + "\u{1B}[K"
            if cursor < buffer.count { text += "\u{1B}[\(buffer.count - cursor)D" }
            write(text)
        }
        func show(_ line: [Character]) {
            buffer = line
            cursor = buffer.count
            redraw()
        }
        write(prompt)
        while let byte = readByte(orStopWhen: interrupted) {
            switch byte {
            case 13, 10:  // Enter
                write("\r\n")
                return .line(String(buffer))
            case 3:  // Ctrl-C, typed here or handled as a signal just before
                write("^C\r\n")
                return .interrupt
            case 4:  // Ctrl-D
                if buffer.isEmpty { write("\r\n"); return .end }
                if cursor < buffer.count { buffer.remove(at: cursor); redraw() }
            case 127, 8:  // Backspace
                if cursor > 0 { buffer.remove(at: cursor - 1); cursor -= 1; redraw() }
            case 1: cursor = 0; redraw()  // Ctrl-A
            case 5: cursor = buffer.count; redraw()  // Ctrl-E
            case 21: buffer.removeSubrange(0..<cursor); cursor = 0; redraw()  // Ctrl-U
            case 27:  // an escape sequence: arrows, Home, End, Delete
                guard let first = readByte() else { break }
                let final = first == UInt8(ascii: "[") || first == UInt8(ascii: "O") ? readByte() : nil
                switch final.map { Character(Unicode.Scalar($0)) } {
                case "A"?:
                    if recall > 0 {
                        if recall == history.count { draft = buffer }
                        recall -= 1
                        show(Array(history[recall]))
                    }
                case "B"?:
                    if recall < history.count {
                        recall += 1
                        show(recall == history.count ? draft : Array(history[recall]))
                    }
                case "C"?: if cursor < buffer.count { cursor += 1; redraw() }
                case "D"?: if cursor > 0 { cursor -= 1; redraw() }
                case "H"?: cursor = 0; redraw()
                case "F"?: cursor = buffer.count; redraw()
                case "3"?:
                    _ = readByte()  // the "~" of Delete
                    if cursor < buffer.count { buffer.remove(at: cursor); redraw() }
                default: break
                }
            case 0x20...0x7E:
                buffer.insert(Character(Unicode.Scalar(byte)), at: cursor)
                cursor += 1
                redraw()
            case 0xC0...0xF7:  // the first byte of a UTF-8 character
                var bytes = [byte]
                let count = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : 1
                for _ in 0..<count { if let next = readByte() { bytes.append(next) } }
                if let text = String(validating: bytes, as: UTF8.self), let character = text.first {
                    buffer.insert(character, at: cursor)
                    cursor += 1
                    redraw()
                }
            default:
                break
            }
        }
        return .end
    }

    /// The next key; Ctrl-C (3) when `stop` turns true first (asked every 50 ms while idle).
    private func readByte(orStopWhen stop: () -> Bool) -> UInt8? {
        var ready = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        while poll(&ready, 1, 50) == 0 {
            if stop() { return 3 }
        }
        return readByte()
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

    private func write(_ text: String) {
        StandardStream.output.write(text)
    }
}
