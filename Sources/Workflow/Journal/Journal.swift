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
    private let pool: DatabasePool
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
    private func write<T: Sendable>(enqueued: (() -> Void)? = nil, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await commits.write(body, enqueued: enqueued)
    }

    /// A synchronous write (a run's beginning and end, adopting recovery files) waiting out
    /// another process's lock.
    private func retryingWhileLocked<T>(_ body: () throws -> T) throws -> T {
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

    // MARK: Tasks

    /// The newest row for `key`, if any.
    private static func latest(_ db: Database, key: String) throws -> TaskRecord? {
        try TaskRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM task WHERE key = ? ORDER BY id DESC LIMIT 1"), arguments: [key])
    }

    /// The newest row for `key`, if any (a plan's look at what the journal holds).
    public func latest(key: String) throws -> TaskRecord? {
        try pool.read { db in try Self.latest(db, key: key) }
    }

    public func record(id: Int64) async throws -> TaskRecord? {
        try await pool.read { db in try TaskRecord.fetchOne(db, sql: "SELECT * FROM task WHERE id = ?", arguments: [id]) }
    }

    /// What a run is to do with one request, decided in one immediate transaction so that
    /// two runs of the same script never both submit it.
    public enum Claim: Sendable {
        /// A new row was written (state `submitting`, owned by this process): send the POST.
        case submit(TaskRecord)
        /// An earlier POST's outcome is unknown and it may be sent again with its own
        /// Idempotency-Key (the gateway replays repeats, or `--resubmit-unknown`).
        case resubmit(TaskRecord)
        /// Downloaded by an earlier run: use its file.
        case reuse(TaskRecord)
        /// Submitted by a run that is gone: poll it and download it (this process owns it now).
        case resume(TaskRecord)
        /// Another live run is submitting or waiting for this very request: wait for it.
        case wait(TaskRecord)
        /// Sent by a run that never learned the task id; not sent again on its own.
        case unknown(TaskRecord)

        public var record: TaskRecord {
            switch self {
            case .submit(let r), .resubmit(let r), .reuse(let r), .resume(let r), .wait(let r), .unknown(let r): r
            }
        }
    }

    /// What a new submission row holds.
    public struct NewSubmission: Sendable {
        public var key: String
        public var idempotencyKey: String
        public var runID: Int64
        public var baseURL: String
        public var request: GenerationRequest
        /// `script.lua:LINE` of the call, for messages about it later.
        public var callSite: String?
        /// The call's place among the run's generation calls.
        public var sequence: Int?
        /// What the script was given (`row 3: animal=fox`), for history and the gallery.
        public var arguments: String?
    }

    /// Decides, for this process, what to do with `submission`: submit it, reuse or resume
    /// an earlier run's task, wait for a live run that has it, or report an unknown outcome.
    /// `fresh` always writes a new row; `resubmitUnknown` lets an unknown row be sent again.
    public func claim(_ submission: NewSubmission, fresh: Bool, resubmitUnknown: Bool, enqueued: (() -> Void)? = nil) async throws -> Claim {
        let me = ProcessIdentity.current
        // One transaction (the batch's, IMMEDIATE: it holds the write lock from its start)
        // decides and records, so two runs of the same script never both submit a request.
        return try await write(enqueued: enqueued) { db in
            let decided = try Self.decide(db, submission, fresh: fresh, resubmitUnknown: resubmitUnknown, me: me)
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO runTask (runID, task, sequence, arguments) VALUES (?, ?, ?, ?)")
                .execute(arguments: [submission.runID, decided.record.id, submission.sequence, submission.arguments])
            return decided
        }
    }

    private static func decide(_ db: Database, _ s: NewSubmission, fresh: Bool, resubmitUnknown: Bool, me: ProcessIdentity) throws -> Claim {
        if !fresh, let earlier = try latest(db, key: s.key) {
            let ownedElsewhere = earlier.owner.map { $0 != me && $0.isAlive } ?? false
            if earlier.state == .downloaded { return .reuse(earlier) }
            if earlier.state.isResumable {
                if ownedElsewhere { return .wait(earlier) }
                try own(db, earlier.id, me)
                return .resume(try reread(db, earlier.id))
            }
            if earlier.state.isOutcomeUnknown {
                if earlier.state == .submitting && ownedElsewhere { return .wait(earlier) }
                if try honorsIdempotencyKeys(db, s.baseURL) || resubmitUnknown {
                    try own(db, earlier.id, me)
                    try db.execute(sql: "UPDATE task SET state = ?, error = NULL, updatedAt = ? WHERE id = ?",
                                   arguments: [State.submitting.rawValue, Date().timeIntervalSince1970, earlier.id])
                    return .resubmit(try reread(db, earlier.id))
                }
                if earlier.state == .submitting {
                    try db.execute(sql: "UPDATE task SET state = ?, error = ?, updatedAt = ? WHERE id = ?",
                                   arguments: [State.unknown.rawValue, "the run that sent it stopped before the gateway answered", Date().timeIntervalSince1970, earlier.id])
                }
                return .unknown(try reread(db, earlier.id))
            }
            // failed: submitted anew below
        }
        let now = Date().timeIntervalSince1970
        // The row as written, made here rather than read back (a SELECT and a decode of every
        // column per generation).
        var row = TaskRecord(id: 0, key: s.key, runID: s.runID, state: .submitting, taskID: nil, idempotencyKey: s.idempotencyKey,
                             baseURL: s.baseURL, mode: s.request.mode.rawValue, model: s.request.model, prompt: s.request.prompt,
                             seconds: s.request.plannedSeconds, request: s.request.body().encoded(), progress: nil, resultURL: nil,
                             path: nil, sha256: nil, bytes: nil, error: nil, createdAt: now, updatedAt: now,
                             ownerPID: me.pid, ownerStart: me.start, callSite: s.callSite)
        try db.cachedStatement(sql: """
            INSERT INTO task (key, runID, state, idempotencyKey, baseURL, mode, model, prompt, seconds, request, createdAt, updatedAt,
                              ownerPID, ownerStart, callSite)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [row.key, row.runID, row.state.rawValue, row.idempotencyKey, row.baseURL, row.mode, row.model, row.prompt,
                             row.seconds, row.request, row.createdAt, row.updatedAt, row.ownerPID, row.ownerStart, row.callSite])
        row.id = db.lastInsertedRowID
        return .submit(row)
    }

    private static func own(_ db: Database, _ row: Int64, _ me: ProcessIdentity) throws {
        try db.cachedStatement(sql: "UPDATE task SET ownerPID = ?, ownerStart = ? WHERE id = ?").execute(arguments: [me.pid, me.start, row])
    }

    private static func reread(_ db: Database, _ row: Int64) throws -> TaskRecord {
        try TaskRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM task WHERE id = ?"), arguments: [row])!
    }

    /// Written as soon as the gateway answers the POST.
    public func recordSubmitted(_ row: Int64, taskID: String, gatewayHonorsIdempotencyKeys: Bool) async throws {
        try await write { db in
            try Self.update(db, row, "state = ?, taskID = ?", [State.submitted.rawValue, taskID])
            if gatewayHonorsIdempotencyKeys {
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO gateway (baseURL, honorsIdempotencyKeys) SELECT baseURL, 1 FROM task WHERE id = ?")
                    .execute(arguments: [row])
            }
        }
    }

    /// This process takes over a row whose owner has gone.
    public func takeOver(_ row: Int64) async throws {
        let me = ProcessIdentity.current
        try await write { db in try Self.own(db, row, me) }
    }

    public func recordState(_ row: Int64, _ state: State, progress: Int? = nil, resultURL: String? = nil) async throws {
        try await write { db in
            try Self.update(db, row, "state = ?, progress = COALESCE(?, progress), resultURL = COALESCE(?, resultURL)",
                       [state.rawValue, progress, resultURL])
        }
    }

    public func recordFailure(_ row: Int64, _ state: State, error: String) async throws {
        try await write { db in try Self.update(db, row, "state = ?, error = ?", [state.rawValue, error]) }
    }

    public func recordDownloaded(_ row: Int64, path: String, sha256: String, bytes: Int64, resultURL: String?) async throws {
        try await write { db in
            try Self.update(db, row, "state = ?, path = ?, sha256 = ?, bytes = ?, resultURL = COALESCE(?, resultURL), progress = 100",
                       [State.downloaded.rawValue, path, sha256, bytes, resultURL])
        }
    }

    /// A media step's journaled output, if its key has one.
    public func media(key: String) async throws -> MediaRecord? {
        try await pool.read { db in try MediaRecord.fetchOne(db, sql: "SELECT * FROM media WHERE key = ?", arguments: [key]) }
    }

    /// Every media step a run made or reused (for history and the gallery), oldest first.
    public func media(runID: Int64? = nil) throws -> [MediaRecord] {
        try pool.read { db in
            try MediaRecord.fetchAll(db, sql: "SELECT * FROM media" + (runID == nil ? "" : " WHERE runID = ?") + " ORDER BY createdAt",
                                     arguments: runID.map { [$0] } ?? [])
        }
    }

    public func recordMedia(_ record: MediaRecord) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO media (key, runID, operation, path, sha256, bytes, duration, width, height, createdAt, inputs)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.key, record.runID, record.operation, record.path, record.sha256, record.bytes,
                                 record.duration, record.width, record.height, record.createdAt, record.inputs])
        }
    }

    private static func update(_ db: Database, _ row: Int64, _ assignments: String, _ values: [(any DatabaseValueConvertible)?]) throws {
        // Prepared once per assignment list (a handful of constant strings) and then reused.
        try db.cachedStatement(sql: "UPDATE task SET \(assignments), updatedAt = ? WHERE id = ?")
            .execute(arguments: StatementArguments(values + [Date().timeIntervalSince1970, row]))
    }

    /// Whether this gateway has shown (by echoing `Idempotency-Key`) that it replays a
    /// repeated submission instead of billing it twice.
    public func honorsIdempotencyKeys(_ baseURL: String) async throws -> Bool {
        try await pool.read { db in try Self.honorsIdempotencyKeys(db, baseURL) }
    }

    private static func honorsIdempotencyKeys(_ db: Database, _ baseURL: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT honorsIdempotencyKeys FROM gateway WHERE baseURL = ?", arguments: [baseURL]) ?? false
    }

    // MARK: Recovery: what could not be written

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

    // MARK: History

    public func runs(limit: Int = 50) throws -> [RunRecord] {
        try pool.read { db in
            try RunRecord.fetchAll(db, sql: "SELECT * FROM run ORDER BY id DESC LIMIT ?", arguments: [limit])
        }
    }

    public func tasks(runID: Int64? = nil) throws -> [TaskRecord] {
        try pool.read { db in
            if let runID {
                return try TaskRecord.fetchAll(db, sql: """
                    SELECT task.* FROM task JOIN runTask ON runTask.task = task.id WHERE runTask.runID = ? ORDER BY runTask.sequence, task.id
                    """, arguments: [runID])
            }
            return try TaskRecord.fetchAll(db, sql: "SELECT * FROM task ORDER BY id")
        }
    }

    /// One use of a row by a run, for the ledger: the row, the run that used it and when, and
    /// whether that run created it (else it reused or resumed an earlier run's).
    public struct Use: Sendable {
        public var task: TaskRecord
        public var runID: Int64
        public var runStartedAt: Double
        public var created: Bool
        /// The call's place in that run's script, when it was recorded.
        public var sequence: Int?
        /// The script's arguments for that take (`row 3: animal=fox`), when it had any.
        public var arguments: String?
    }

    /// Every use of a row by a run started at or after `since` (seconds since 1970).
    public func uses(since: Double = 0) throws -> [Use] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT task.*, runTask.runID AS usedByRun, run.startedAt AS usedAt, runTask.sequence AS usedAs, runTask.arguments AS usedWith
                FROM runTask JOIN task ON task.id = runTask.task JOIN run ON run.id = runTask.runID
                WHERE run.startedAt >= ? ORDER BY runTask.runID, runTask.sequence, runTask.task
                """, arguments: [since]).map { row in
                let task = try TaskRecord(row: row)
                let runID: Int64 = row["usedByRun"]
                return Use(task: task, runID: runID, runStartedAt: row["usedAt"], created: task.runID == runID, sequence: row["usedAs"],
                           arguments: row["usedWith"])
            }
        }
    }

    public func task(taskID: String) throws -> TaskRecord? {
        try pool.read { db in
            try TaskRecord.fetchOne(db, sql: "SELECT * FROM task WHERE taskID = ? ORDER BY id DESC LIMIT 1", arguments: [taskID])
        }
    }
}

/// One row of the `task` table.
public struct TaskRecord: Codable, FetchableRecord, Sendable, Equatable {
    public var id: Int64
    public var key: String
    public var runID: Int64
    public var state: Journal.State
    public var taskID: String?
    public var idempotencyKey: String
    public var baseURL: String
    public var mode: String
    public var model: String
    public var prompt: String
    public var seconds: Int64
    public var request: String
    public var progress: Int?
    public var resultURL: String?
    public var path: String?
    public var sha256: String?
    public var bytes: Int64?
    public var error: String?
    public var createdAt: Double
    public var updatedAt: Double
    public var ownerPID: Int32?
    public var ownerStart: String?
    public var callSite: String?

    /// The process working on this row, if one was recorded.
    public var owner: ProcessIdentity? { ownerPID.map { ProcessIdentity(pid: $0, start: ownerStart ?? "") } }
}

extension TaskRecord {
    /// Read by column name, by hand: GRDB's Codable decoding cost about 80 thousand
    /// instructions a row, paid for every row of a run at its end.
    public init(row: Row) throws {
        let stateName: String = try row.decode(forColumn: "state")
        guard let state = Journal.State(rawValue: stateName) else {
            throw DatabaseError(resultCode: .SQLITE_MISMATCH, message: "task row with an unknown state '\(stateName)'")
        }
        self.init(id: try row.decode(forColumn: "id"), key: try row.decode(forColumn: "key"), runID: try row.decode(forColumn: "runID"),
                  state: state, taskID: try row.decode(forColumn: "taskID"), idempotencyKey: try row.decode(forColumn: "idempotencyKey"),
                  baseURL: try row.decode(forColumn: "baseURL"), mode: try row.decode(forColumn: "mode"), model: try row.decode(forColumn: "model"),
                  prompt: try row.decode(forColumn: "prompt"), seconds: try row.decode(forColumn: "seconds"),
                  request: try row.decode(forColumn: "request"), progress: try row.decode(forColumn: "progress"),
                  resultURL: try row.decode(forColumn: "resultURL"), path: try row.decode(forColumn: "path"),
                  sha256: try row.decode(forColumn: "sha256"), bytes: try row.decode(forColumn: "bytes"), error: try row.decode(forColumn: "error"),
                  createdAt: try row.decode(forColumn: "createdAt"), updatedAt: try row.decode(forColumn: "updatedAt"),
                  ownerPID: try row.decode(forColumn: "ownerPID"), ownerStart: try row.decode(forColumn: "ownerStart"),
                  callSite: try row.decode(forColumn: "callSite"))
    }
}

/// One row of the `media` table: a media step's output file.
public struct MediaRecord: Codable, FetchableRecord, Sendable, Equatable {
    public var key: String
    public var runID: Int64
    public var operation: String
    public var path: String
    public var sha256: String
    public var bytes: Int64
    public var duration: Double?
    public var width: Int?
    public var height: Int?
    public var createdAt: Double
    /// Its input files, absolute, as a JSON list.
    public var inputs: String?

    /// The input files as a list.
    public var inputPaths: [String] {
        guard let inputs, case .array(let items)? = try? JSONValue.parse(Array(inputs.utf8)) else { return [] }
        return items.compactMap(\.stringValue)
    }
}

/// One row of the `run` table.
public struct RunRecord: Codable, FetchableRecord, Sendable, Equatable {
    public var id: Int64
    public var startedAt: Double
    public var finishedAt: Double?
    public var script: String
    public var baseURL: String
    /// A `Journal.RunOutcome` raw value, or nil while the run is going (read as text, as stored).
    public var outcome: String?
    public var arguments: String?
}
