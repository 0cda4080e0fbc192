import Foundation

/// Writing files so that a reader only ever sees nothing or the whole file.
public enum AtomicFile {
    /// A temporary name beside `target` (same folder, so the final rename is atomic).
    public static func temporaryURL(beside target: URL) -> URL {
        target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
    }

    /// Moves `source` over `target` in one step (rename(2)), replacing what was there.
    public static func move(_ source: URL, over target: URL) throws {
        guard rename(source.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: reason])
        }
    }
}
