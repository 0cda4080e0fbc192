import Foundation

/// The API key, taken out of the environment before anything else runs, so that no script
/// (os.getenv), no program a script starts (io.popen "env"), and no reader of
/// /proc/self/environ can see it. Only the HTTP client ever holds it after this.
enum APIKey {
    nonisolated(unsafe) private static var captured: String?

    static var value: String? { captured }

    /// Call once, first thing in main.
    static func takeFromEnvironment() {
        guard let pointer = getenv("REEL_API_KEY") else { return }
        captured = String(cString: pointer)
        // Wipe the bytes in place (they may be the kernel's copy behind /proc/self/environ),
        // then drop the variable.
        memset(pointer, 0, strlen(pointer))
        unsetenv("REEL_API_KEY")
    }
}
