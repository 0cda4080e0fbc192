import Foundation
import Support
import VideoAPI

/// The API key, taken out of the environment before anything else runs, so that no script
/// (os.getenv), no program a script starts (io.popen "env"), and no reader of
/// /proc/self/environ can see it. Only the HTTP client ever holds it after this.
///
/// `REEL_API_KEY_FILE` names a file holding the key instead: it is read once here and closed,
/// so the key is in no environment at all — not reel's, and not the parent's that launched it
/// (`/proc/<parent>/environ` is readable by any process of the same user).
enum APIKey {
    nonisolated(unsafe) private static var captured: String?
    /// Why the key given could not be used (an unreadable file, a line break inside the key),
    /// reported when a gateway needs the key; the key is then never sent.
    nonisolated(unsafe) private(set) static var problem: String?
    /// Where the key came from, for the line a run starts with: "REEL_API_KEY", or
    /// "REEL_API_KEY_FILE (path)". Never the key.
    nonisolated(unsafe) private(set) static var source: String?

    static var value: String? { captured }

    /// Call once, first thing in main.
    static func takeFromEnvironment() {
        if let pointer = getenv("REEL_API_KEY") {
            let raw = String(cString: pointer)
            if !raw.isEmpty { accept(raw, from: "REEL_API_KEY") }  // set but empty: as good as unset
            // Wipe the bytes in place (they may be the kernel's copy behind /proc/self/environ),
            // then drop the variable.
            memset(pointer, 0, strlen(pointer))
            unsetenv("REEL_API_KEY")
        }
        if let pointer = getenv(handOverVariable), let fd = Int32(String(cString: pointer)) {
            // A key handed over by reel itself across exec (see `handOver`).
            unsetenv(handOverVariable)
            var data = [UInt8](repeating: 0, count: 4096)
            let n = Foundation.read(fd, &data, data.count)
            close(fd)
            if n > 0, source == nil { accept(String(decoding: data[..<n], as: UTF8.self), from: "the reel run that started this one") }
        }
        if let pointer = getenv("REEL_API_KEY_FILE") {
            let path = String(cString: pointer)
            unsetenv("REEL_API_KEY_FILE")  // a script need not learn where the key lives
            if source == nil, let text = read(path) { accept(text, from: "REEL_API_KEY_FILE (\(path))") }
        }
        if let key = captured { Redaction.register(key) }
    }

    /// Takes the key as a header can carry it: without surrounding whitespace, line breaks or a
    /// byte-order mark (an editor's or `echo`'s, which a gateway would take for a wrong key).
    /// Anything but printable ASCII left inside refuses the key, naming what and where it came
    /// from, never the key.
    private static func accept(_ raw: String, from origin: String) {
        source = origin
        let key = raw.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{FEFF}")))
        if key.isEmpty {
            problem = "\(origin) holds no key, only spaces or line breaks; set the key there"
            return
        }
        if let bad = key.unicodeScalars.first(where: { !(0x21...0x7E).contains($0.value) }) {
            problem = "\(origin) holds \(describe(bad)) inside the key, which no gateway accepts; set the key again without it (reel does not print the key)"
            return
        }
        captured = key
    }

    /// What a character that cannot be in a key is, without giving away the key's own characters.
    private static func describe(_ scalar: Unicode.Scalar) -> String {
        let code = String(format: "U+%04X", scalar.value)
        switch scalar.value {
        case 0x20: return "a space (\(code))"
        case 0x09: return "a tab (\(code))"
        case 0x0A, 0x0D, 0x85, 0x2028, 0x2029: return "a line break (\(code))"
        case 0x00...0x1F, 0x7F...0x9F: return "a control character (\(code))"
        default: return scalar.properties.isWhitespace || scalar.properties.generalCategory == .format
            ? "an invisible character (\(code))" : "a character outside printable ASCII"
        }
    }

    private static let handOverVariable = "REEL_API_KEY_FD"

    /// Before reel execs itself (to re-run with --resubmit-unknown): the key travels in a pipe
    /// whose read end the new process inherits, never in an environment.
    static func handOver() {
        guard let key = captured else { return }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        let bytes = Array(key.utf8)
        _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        setenv(handOverVariable, String(fds[0]), 1)
    }

    /// The key file's text; warns (once: the file is read once) when other users may read it.
    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else {
            source = "REEL_API_KEY_FILE (\(path))"
            problem = "REEL_API_KEY_FILE names '\(path)', which cannot be read"
            return nil
        }
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & 0o044 != 0 {
            printError("reel: warning: the key file \(path) can be read by other users (mode \(String(status.st_mode & 0o777, radix: 8))); make it yours alone: chmod 600 \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
