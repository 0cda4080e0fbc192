/// Text from a gateway, the journal or a script, made safe to show on a terminal. A failure
/// reason carrying `ESC ] 0 ; … BEL` would retitle the window, `ESC ] 52` write the
/// clipboard, a `\r` overwrite the line before it, a U+202E reverse what follows: every
/// control is shown as an escape instead (`\e]0;title\a`), so the user still sees that
/// something odd came back, while accents, CJK and emoji stay as they are. Data keeps its
/// bytes (the journal, Lua values, `--json`); only what is shown to a person passes here.
public enum TerminalText {
    /// `text` with every control shown as a visible escape. `keepingLineBreaks`: newline and
    /// tab are kept, for a message reel composed over several lines (a summary, a script's
    /// `log`); text from outside is escaped whole, so it cannot start a line of its own.
    public static func escaped(_ text: String, keepingLineBreaks: Bool = false) -> String {
        // Most text holds no byte that could start a control: returned as it is, without a
        // look at each scalar (labels are made for every generation).
        guard text.utf8.contains(where: mayStartControl) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard isControl(scalar), !(keepingLineBreaks && (scalar == "\n" || scalar == "\t")) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            result += escape(scalar)
        }
        return result
    }

    /// Whether a scalar acts on the terminal (or on the order text is shown in) rather than
    /// showing: C0 controls, DEL, C1 controls (in UTF-8 terminals U+009B is CSI, U+009D OSC),
    /// the line and paragraph separators, and the bidirectional embeddings, overrides and
    /// isolates (U+202A–202E, U+2066–2069: "Trojan Source"). The marks U+200E/200F stay:
    /// Arabic and Hebrew prompts use them, and they reorder nothing on their own.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F...0x9F, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// Whether this UTF-8 byte can begin a control: itself one, or the lead byte of C1
    /// (0xC2) or of the U+20xx ones (0xE2).
    public static func mayStartControl(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F || byte == 0xC2 || byte == 0xE2
    }

    /// `\n`, `\r`, `\t`, `\e` (ESC), `\a` (BEL), `\x01`, `\u{9B}`, `\u{202E}`.
    static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{1B}": return "\\e"
        case "\u{07}": return "\\a"
        default:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
        }
    }
}
