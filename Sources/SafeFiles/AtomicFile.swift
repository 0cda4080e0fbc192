import Foundation

/// Writing files so that a reader only ever sees nothing or the whole file. Every writer in
/// reel (downloads, `:save()`, the media steps) writes to `temporaryPath(beside:)` and ends
/// with `move(_:over:)`, or lets `write(_:body:)` do both; so there is one temporary-file
/// name, and `sweepAbandoned` can tell whose each one is.
public enum AtomicFile {
    static let marker = ".partial-"
    /// The longest file name (one path component) Linux and macOS file systems take, in bytes.
    public static let nameMax = 255

    /// Why a file could not be written or moved into place. `code` is the errno, when the
    /// system gave one (so a caller can tell a full disk from a bad name).
    public struct Failure: Error, LocalizedError, CustomStringConvertible {
        public let description: String
        public let code: Int32?
        public var errorDescription: String? { description }
    }

    /// A temporary name beside `target` (same folder, so the final rename is atomic):
    /// `.NAME.partial-PID-START-RANDOM`. It carries this process's id and start time, so a
    /// later run can tell one abandoned by a dead writer (kill -9) from one a live writer is
    /// still filling, even when the pid has since been reused. NAME is cut to keep the whole
    /// within `nameMax`.
    public static func temporaryPath(beside target: String) -> String {
        let slash = target.lastIndex(of: "/")
        let folder = slash.map { String(target[...$0]) } ?? ""
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let suffix = "\(marker)\(writer.pid)-\(writer.start.isEmpty ? "0" : writer.start)-\(String(repeating: "0", count: 8 - random.count))\(random)"
        return folder + "." + name.prefix(utf8Bytes: nameMax - 1 - suffix.utf8.count) + suffix
    }

    private static let writer = ProcessIdentity.current

    /// The writer a temporary name of `temporaryPath(beside:)` names; nil for any other name
    /// (a user's file, or another program's that happens to hold `.partial-`).
    static func writer(of name: String) -> ProcessIdentity? {
        guard name.hasPrefix("."), let range = name.range(of: marker, options: .backwards) else { return nil }
        let parts = name[range.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let pid = Int32(parts[0]), pid > 0, parts[1].allSatisfy(\.isASCII), UInt64(parts[1]) != nil,
            parts[2].count == 8, parts[2].allSatisfy(\.isHexDigit)
        else { return nil }
        return ProcessIdentity(pid: pid, start: parts[1] == "0" ? "" : String(parts[1]))
    }

    /// Removes the temporary files in `directory` whose writer is provably gone: the name
    /// is one `temporaryPath` makes, and no process with that pid and start time exists.
    /// Returns how many it removed.
    @discardableResult
    public static func sweepAbandoned(in directory: String) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for name in names {
            guard let writer = writer(of: name), !writer.isAlive else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            var info = stat()
            // Only files: never a folder (or a link) that happens to carry the name.
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Refuses a `target` that exists and is not a regular file (or a link to one): a
    /// rename would replace a device, a pipe or a socket with a plain file, and cannot
    /// replace a folder. Checked before a write starts, and again by `move`.
    public static func checkTarget(_ target: String) throws(Failure) {
        var info = stat()
        guard stat(target, &info) == 0 else { return }  // nothing there (or a dangling link): free to write
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw Failure(description: "\(target) is a folder; give a file name (for example \(target)/video.mp4)", code: EISDIR)
        default: throw Failure(description: "\(target) exists and is not a regular file (a device, pipe or socket); reel replaces only regular files, so give another path", code: EEXIST)
        }
    }

    /// Moves `source` over `target` in one step (rename(2)), replacing a regular file that
    /// was there; refuses anything else there (see `checkTarget`).
    public static func move(_ source: String, over target: String) throws(Failure) {
        try checkTarget(target)
        guard rename(source, target) == 0 else {
            let code = errno
            throw Failure(description: "cannot move it into \(target): \(String(cString: strerror(code)))", code: code)
        }
    }

    /// Writes `target` whole: `body` writes the temporary path it is given, which is then
    /// moved over `target`; the folder is made if missing; on any failure the temporary
    /// file is removed and `target` is left as it was.
    public static func write(_ target: String, body: (String) async throws -> Void) async throws {
        try checkTarget(target)
        let folder = (target as NSString).deletingLastPathComponent
        if !folder.isEmpty && access(folder, F_OK) != 0 {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw Failure(description: "cannot create the folder \(folder): \(OutputFolderProblem.describe(folder) ?? error.localizedDescription)", code: nil)
            }
        }
        let temporary = temporaryPath(beside: target)
        defer { unlink(temporary) }
        try await body(temporary)
        guard access(temporary, F_OK) == 0 else { throw Failure(description: "nothing was written for \(target)", code: nil) }
        try move(temporary, over: target)
    }
}

/// What stops a folder from being made or written: the first part of its path that exists
/// and is not a folder, or is read-only, or a place where folders cannot be made (/proc, /sys).
public enum OutputFolderProblem {
    /// A sentence for `folder`, or nil when nothing in particular is found.
    public static func describe(_ folder: String) -> String? {
        var path = URL(fileURLWithPath: folder).standardizedFileURL.path
        // Walk up to the deepest part that exists: that is where the folder would be made.
        var missing: String?
        var info = stat()
        while stat(path, &info) != 0 {
            if errno == EACCES { return "\(path) cannot be reached (permission denied)" }
            missing = path
            let parent = (path as NSString).deletingLastPathComponent
            if parent == path { return nil }
            path = parent
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "\(path) is a file, not a folder" }
        if let type = fileSystemType(of: path), virtual.contains(type) {
            return "\(path) is on \(type), a system file system where reel cannot make folders or files"
        }
        if access(path, W_OK) != 0 {
            let readOnly = errno == EROFS
            let what = missing == nil ? "the folder \(path)" : "\(path), where \((missing! as NSString).lastPathComponent) would be made,"
            return readOnly ? "\(what) is on a read-only file system" : "\(what) is not writable by this user"
        }
        return nil
    }

    /// File systems the kernel makes up (/proc, /sys, …): nothing can be written there.
    static let virtual: Set<String> = ["proc", "sysfs", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs", "configfs", "pstore", "bpf", "devpts"]

    /// The type of the file system holding `path` (the longest mount point above it), from
    /// /proc/self/mounts; nil where there is none (macOS).
    static func fileSystemType(of path: String) -> String? {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 2 else { continue }
            let point = String(fields[1])
            let inside = point == "/" || path == point || path.hasPrefix(point + "/")
            if inside && point.count >= (best?.point.count ?? -1) { best = (point, String(fields[2])) }
        }
        return best?.type
    }
}

extension String {
    /// The longest prefix of whole characters that fits in `utf8Bytes` bytes.
    public func prefix(utf8Bytes limit: Int) -> String {
        guard utf8.count > limit else { return self }
        var out = ""
        var used = 0
        for c in self {
            let size = c.utf8.count
            if used + size > limit { break }
            out.append(c)
            used += size
        }
        return out
    }
}
