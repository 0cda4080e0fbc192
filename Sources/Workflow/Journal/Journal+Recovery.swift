import Foundation
import GRDB
import SafeFiles
import Support
import VideoAPI

/// Task ids and files the journal would not take, kept beside it until a later run adopts them.
extension Journal {
    /// What a failed write would have recorded.
    public struct RecoveryEntry: Sendable {
        public var row: Int64
        public var taskID: String
        public var download: (path: String, sha256: String, bytes: Int64, resultURL: String?)?
    }

    /// Keeps a task id (and its file, once downloaded) that the journal would not take —
    /// locked past `patience`, a full disk — in a file of this process's own beside it,
    /// which the next run adopts. Returns the file's path, or nil if even that failed.
    public func keepForRecovery(_ entry: RecoveryEntry) -> String? {
        let me = ProcessIdentity.current
        let file = (directory as NSString).appendingPathComponent("\(Self.recoveryPrefix)\(me.pid)-\(me.start).jsonl")
        var fields: [(String, JSONValue)] = [("row", .int(entry.row)), ("task_id", .string(entry.taskID))]
        if let d = entry.download {
            fields += [("path", .string(d.path)), ("sha256", .string(d.sha256)), ("bytes", .int(d.bytes)),
                       ("result_url", d.resultURL.map(JSONValue.string) ?? .null)]
        }
        let line = Array((JSONValue.object(fields).encoded() + "\n").utf8)
        let fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let written = line.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        return written == line.count ? file : nil
    }

    static let recoveryPrefix = "recovered-"

    /// Applies the recovery files of processes that have ended, then removes them. Returns
    /// how many rows were mended.
    @discardableResult
    public func adoptRecovered() throws -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var mended = 0
        for name in names where name.hasPrefix(Self.recoveryPrefix) && name.hasSuffix(".jsonl") {
            let parts = name.dropFirst(Self.recoveryPrefix.count).dropLast(6).split(separator: "-", maxSplits: 1)
            guard parts.count == 2, let pid = Int32(parts[0]), !ProcessIdentity(pid: pid, start: String(parts[1])).isAlive else { continue }
            let file = (directory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            let entries = text.split(separator: "\n").compactMap { try? JSONValue.parse(Data($0.utf8)) }
            try retryingWhileLocked {
                try pool.write { db in
                    for entry in entries {
                        guard case .int(let row)? = entry["row"], let taskID = entry["task_id"]?.stringValue else { continue }
                        let now = Date().timeIntervalSince1970
                        if let path = entry["path"]?.stringValue, let sha = entry["sha256"]?.stringValue, case .int(let bytes)? = entry["bytes"] {
                            try db.execute(sql: """
                                UPDATE task SET state = ?, taskID = ?, path = ?, sha256 = ?, bytes = ?,
                                resultURL = COALESCE(?, resultURL), progress = 100, updatedAt = ? WHERE id = ? AND state != ?
                                """, arguments: [State.downloaded.rawValue, taskID, path, sha, bytes, entry["result_url"]?.stringValue, now, row,
                                                 State.downloaded.rawValue])
                        } else {
                            try db.execute(sql: """
                                UPDATE task SET state = ?, taskID = ?, error = NULL, updatedAt = ?
                                WHERE id = ? AND state IN (?, ?)
                                """, arguments: [State.submitted.rawValue, taskID, now, row, State.submitting.rawValue, State.unknown.rawValue])
                        }
                        mended += db.changesCount
                    }
                }
            }
            try? FileManager.default.removeItem(atPath: file)
        }
        return mended
    }
}
