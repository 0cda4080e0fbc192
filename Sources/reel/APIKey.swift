import Foundation
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
    /// Why the key file could not be used, reported when a gateway needs the key.
    nonisolated(unsafe) private(set) static var fileProblem: String?

    static var value: String? { captured }

    /// Call once, first thing in main.
    static func takeFromEnvironment() {
        if let pointer = getenv("REEL_API_KEY") {
            captured = String(cString: pointer)
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
            if n > 0, captured == nil { captured = String(decoding: data[..<n], as: UTF8.self) }
        }
        if let pointer = getenv("REEL_API_KEY_FILE") {
            let path = String(cString: pointer)
            unsetenv("REEL_API_KEY_FILE")  // a script need not learn where the key lives
            if captured == nil { captured = read(path) }
        }
        if let key = captured { Redaction.register(key) }
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

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else {
            fileProblem = "REEL_API_KEY_FILE names '\(path)', which cannot be read"
            return nil
        }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty, !key.contains("\n") else {
            fileProblem = "REEL_API_KEY_FILE names '\(path)', which should hold the key alone on one line"
            return nil
        }
        return key
    }
}
