import Foundation

/// Writing files so that a reader only ever sees nothing or the whole file.
public enum AtomicFile {
    static let marker = ".partial-"

    /// A temporary name beside `target` (same folder, so the final rename is atomic). It
    /// carries this process's id, so a later run can tell an abandoned one (kill -9) from
    /// one a live run is still writing.
    public static func temporaryPath(beside target: String) -> String {
        let slash = target.lastIndex(of: "/")
        let folder = slash.map { String(target[...$0]) } ?? ""
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        return "\(folder).\(name)\(marker)\(pid)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// This process's id, asked once (reel does not fork).
    private static let pid = getpid()

    /// Removes temporary files in `directory` whose writing process no longer exists.
    /// Returns how many it removed.
    @discardableResult
    public static func sweepAbandoned(in directory: String) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(".") {
            guard let range = name.range(of: marker, options: .backwards) else { continue }
            let pidText = name[range.upperBound...].prefix { $0.isNumber }
            guard let pid = pid_t(pidText), pid > 0 else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }  // its writer is alive
            if (try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))) != nil { removed += 1 }
        }
        return removed
    }

    /// Moves `source` over `target` in one step (rename(2)), replacing what was there.
    public static func move(_ source: String, over target: String) throws {
        guard rename(source, target) == 0 else {
            let reason = String(cString: strerror(errno))
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: reason])
        }
    }
}
