import Foundation
import GRDB
import SafeFiles
import Support
import VideoAPI

/// The record that keeps a run from losing or re-buying a result: a row is
/// written before each POST, the task id right after it, then every state change, and
/// finally the downloaded file's path and SHA-256. SQLite in WAL mode, so `reel history`
/// can read while a run writes.
public final class Journal: Sendable {
    let pool: DatabasePool
    private let commits: GroupCommit
    public let path: String
    /// The folder (`.reel`, or `--state`): the journal and any recovery files.
    public let directory: String
    /// Seconds a write keeps trying while another process holds the journal locked.
    let patience: Double
    /// Called when a wait for another process's lock begins.
    private let onLockWait: (@Sendable () -> Void)?

    /// Where a task stands, as recorded.
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Written just before the POST: if a run stops here, the outcome is unknown.
        case submitting
        case submitted, queued, running
        /// The task finished but its video is not on disk yet.
        case succeeded
        case downloaded
        case failed
        /// The POST may have reached the gateway but no task id came back.
        case unknown

        // The one classification of states; spend, gallery, task, history, holdings and
        // resume read these properties rather than listing states themselves.

        /// A task id exists and the video is not downloaded: a re-run polls it again.
        public var isResumable: Bool { [.submitted, .queued, .running, .succeeded].contains(self) }
        /// The gateway took the task and it has not failed: it is paid for, downloaded or not.
        public var isPaid: Bool { self == .downloaded || isResumable }
        /// No one knows whether the gateway received the POST (and so billed it).
        public var isOutcomeUnknown: Bool { self == .submitting || self == .unknown }
    }

    /// Opens (creating if needed) `journal.sqlite` in `directory`, waiting out another
    /// process's lock for up to `patience` seconds (which is also how long each write waits
    /// for one). `onLockWait` is called once each time such a wait begins.
    public convenience init(directory: String, patience: Double = Journal.defaultPatience, onLockWait: (@Sendable () -> Void)? = nil) throws {
        let opening = try Opening(directory: directory)
        let pool = try LockPatience.retryingOnThisThread(patience, onWait: onLockWait) { try opening.attempt() }
        self.init(opening, pool: pool, patience: patience, onLockWait: onLockWait)
    }

    /// The same for a task that must stay responsive while it waits (`reel run`): no thread
    /// is held between tries, and cancelling the task stops the wait.
    public static func opened(directory: String, patience: Double = Journal.defaultPatience, onLockWait: (@Sendable () -> Void)? = nil) async throws -> Journal {
        let opening = try Opening(directory: directory)
        let pool = try await LockPatience.retrying(patience, onWait: onLockWait) { try opening.attempt() }
        return Journal(opening, pool: pool, patience: patience, onLockWait: onLockWait)
    }

    private init(_ opening: Opening, pool: DatabasePool, patience: Double, onLockWait: (@Sendable () -> Void)?) {
        directory = opening.directory
        path = opening.path
        self.pool = pool
        self.patience = patience
        self.onLockWait = onLockWait
        commits = GroupCommit(pool: pool, patience: patience, onLockWait: onLockWait)
    }

    /// One try at opening the journal, repeated while another process holds a lock: opening
    /// writes (GRDB makes sure the WAL holds a commit; the first run creates the tables).
    private struct Opening {
        let directory: String
        let path: String
        let configuration: Configuration

        init(directory: String) throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            self.directory = directory
            path = (directory as NSString).appendingPathComponent(Journal.fileName)
            var configuration = Configuration()
            // Short waits inside SQLite; the longer patience is the retry loops', which say
            // that they wait and can be stopped.
            configuration.busyMode = .timeout(1)
            // WAL with synchronous=NORMAL: a killed process loses nothing (the log is in the OS);
            // only a power cut could lose the last commits, and never corrupts the journal.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            self.configuration = configuration
        }

        func attempt() throws -> DatabasePool {
            // Runs started together would otherwise race to create the tables: the first to take
            // this lock migrates, the others find the schema done. Not waited for here, so that
            // the caller's wait says why it waits and can be stopped.
            let lock = open((directory as NSString).appendingPathComponent("journal.lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if lock >= 0 {
                guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
                    close(lock)
                    throw LockPatience.CreationLockHeld()
                }
            }
            defer { if lock >= 0 { flock(lock, LOCK_UN); close(lock) } }
            let pool = try DatabasePool(path: path, configuration: configuration)
            try Journal.migrator.migrate(pool)
            return pool
        }
    }

    /// Seconds a command waits out another process's lock on the journal, unless told otherwise.
    public static let defaultPatience: Double = 60

    /// The journal's file name inside its folder.
    public static let fileName = "journal.sqlite"

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("startedAt", .double).notNull()
                t.column("finishedAt", .double)
                t.column("script", .text).notNull()
                t.column("baseURL", .text).notNull()
                t.column("outcome", .text)
            }
            try db.create(table: "task") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("key", .text).notNull().indexed()
                t.column("runID", .integer).notNull().references("run")
                t.column("state", .text).notNull()
                t.column("taskID", .text)
                t.column("idempotencyKey", .text).notNull()
                t.column("baseURL", .text).notNull()
                t.column("mode", .text).notNull()
                t.column("model", .text).notNull()
                t.column("prompt", .text).notNull()
                t.column("seconds", .integer).notNull()
                t.column("request", .text).notNull()
                t.column("progress", .integer)
                t.column("resultURL", .text)
                t.column("path", .text)
                t.column("sha256", .text)
                t.column("bytes", .integer)
                t.column("error", .text)
                t.column("createdAt", .double).notNull()
                t.column("updatedAt", .double).notNull()
            }
            try db.create(table: "gateway") { t in
                t.primaryKey("baseURL", .text)
                t.column("honorsIdempotencyKeys", .boolean).notNull()
            }
        }
        migrator.registerMigration("v2: claims and run links") { db in
            // Which live process is working on a row: another run waits for it instead of
            // submitting the same request again.
            try db.alter(table: "task") { t in
                t.add(column: "ownerPID", .integer)
                t.add(column: "ownerStart", .text)
                t.add(column: "callSite", .text)
            }
            // Every run that used a row (created, resumed, reused or waited for it), so that
            // history credits each run with its own videos, also when runs overlap.
            try db.create(table: "runTask") { t in
                t.column("runID", .integer).notNull().references("run")
                t.column("task", .integer).notNull().references("task")
                t.primaryKey(["runID", "task"])
            }
            try db.execute(sql: "INSERT INTO runTask (runID, task) SELECT runID, id FROM task")
        }
        migrator.registerMigration("v3: run arguments") { db in
            // The key=value pairs (and --each file) a run was given, for history.
            try db.alter(table: "run") { t in t.add(column: "arguments", .text) }
        }
        migrator.registerMigration("v4: media steps") { db in
            // last_frame, concat, seams, …: keyed by the step and its inputs' content, so a
            // re-run finds what is done instead of running ffmpeg again.
            try db.create(table: "media") { t in
                t.primaryKey("key", .text)
                t.column("runID", .integer).notNull().references("run")
                t.column("operation", .text).notNull()
                t.column("path", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("bytes", .integer).notNull()
                t.column("duration", .double)
                t.column("width", .integer)
                t.column("height", .integer)
                t.column("createdAt", .double).notNull()
                // Its input files (absolute paths, JSON), so a gallery can follow a chain.
                t.column("inputs", .text)
            }
            // The call's place in the run's script (1, 2, …): takes are shown in the order the
            // script made them, whatever order their POSTs happened to go out in.
            try db.alter(table: "runTask") { t in
                t.add(column: "sequence", .integer)
                // The script's arguments for this take (an --each row's columns, key=value pairs).
                t.add(column: "arguments", .text)
            }
        }
        migrator.registerMigration("v5: the body sent") { db in
            // The wire body as sent, media by content hash, beside the typed request (`request`,
            // which rows from before this held in the plan's display form).
            try db.alter(table: "task") { t in t.add(column: "sent", .text) }
        }
        return migrator
    }

    // MARK: Whether it can be trusted

    /// A journal whose table of takes is damaged beyond what REINDEX mends.
    public struct Damaged: Error, CustomStringConvertible {
        public let path: String
        /// What `PRAGMA integrity_check` said first.
        public let finding: String
        public var description: String {
            """
            the journal \(path) is damaged (SQLite's integrity check: \(finding)). reel will not run on it: takes it no longer \
            knows would be generated and paid for again. Keep a copy, then try `sqlite3 \(path) .recover | sqlite3 recovered.sqlite` \
            and put recovered.sqlite in its place, or restore it from a backup
            """
        }
    }

    /// Checks the table of takes and its indexes before a run trusts the journal's word on
    /// what it holds: with a damaged index a lookup finds no row for a take the table holds,
    /// and the run pays for it again (`PRAGMA quick_check` does not look at indexes' contents).
    /// `integrity_check(task)` takes about 3 ms on a journal of 3,000 takes. A damaged index is
    /// rebuilt from the table (REINDEX: nothing can be lost) and the returned notice says so;
    /// damage to the table itself throws `Damaged`.
    public func verify() throws -> String? {
        let check = "PRAGMA integrity_check(task)"
        let findings = try pool.read { db in try String.fetchAll(db, sql: check) }
        guard findings != ["ok"] else { return nil }
        try retryingWhileLocked { try pool.write { db in try db.execute(sql: "REINDEX task") } }
        let after = try pool.read { db in try String.fetchAll(db, sql: check) }
        guard after == ["ok"] else { throw Damaged(path: path, finding: after.first ?? "no answer") }
        return "reel: the journal \(path) had a damaged index (\(findings.first ?? "")); rebuilt it from its table with REINDEX, so nothing it holds is lost or paid for again"
    }

    /// Whether the journal holds no take at all: new, or emptied (a 0-byte file opens as an
    /// empty database).
    public var knowsNoTakes: Bool {
        get throws { try pool.read { db in try !Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM task)")! } }
    }

    // MARK: Writing through locks

    /// A write that waits out another process's lock (`reel history` reading never locks;
    /// a second run, a backup tool or sqlite3 holding a write transaction can), committed
    /// with the other generations' writes of the moment (see `GroupCommit`). Neither the
    /// write nor its waits can be cancelled.
    func write<T: Sendable>(enqueued: (() -> Void)? = nil, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await commits.write(body, enqueued: enqueued)
    }

    /// A synchronous write (a run's beginning and end, adopting recovery files) waiting out
    /// another process's lock.
    func retryingWhileLocked<T>(_ body: () throws -> T) throws -> T {
        try LockPatience.retryingOnThisThread(patience, onWait: onLockWait, body)
    }

    // MARK: Runs

    /// `arguments`: what the run was given (`key=value` pairs, `--each rows.csv`), as JSON.
    public func beginRun(script: String, baseURL: String, arguments: String? = nil) throws -> Int64 {
        try retryingWhileLocked { try pool.write { db in
            try db.execute(sql: "INSERT INTO run (startedAt, script, baseURL, arguments) VALUES (?, ?, ?, ?)",
                           arguments: [Date().timeIntervalSince1970, script, baseURL, arguments])
            return db.lastInsertedRowID
        } }
    }

    /// How a run ended, as stored in the `run` table's `outcome` column.
    public enum RunOutcome: String, Sendable, CaseIterable {
        case done, failed, interrupted
    }

    public func finishRun(_ id: Int64, outcome: RunOutcome) throws {
        try retryingWhileLocked { try pool.write { db in
            try db.execute(sql: "UPDATE run SET finishedAt = ?, outcome = ? WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970, outcome.rawValue, id])
        } }
    }
}
