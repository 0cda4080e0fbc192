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
        if let pointer = getenv("REEL_API_KEY_FILE") {
            let path = String(cString: pointer)
            unsetenv("REEL_API_KEY_FILE")  // a script need not learn where the key lives
            if captured == nil { captured = read(path) }
        }
        if let key = captured { Redaction.register(key) }
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
