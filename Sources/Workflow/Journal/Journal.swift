import Foundation
import GRDB
import VideoAPI

/// The record that keeps a run from losing or re-buying a result (DESIGN.md §4): a row is
/// written before each POST, the task id right after it, then every state change, and
/// finally the downloaded file's path and SHA-256. SQLite in WAL mode, so `reel history`
/// can read while a run writes.
public final class Journal: Sendable {
    private let pool: DatabasePool
    public let path: String

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

        /// A task id exists and the video is not downloaded: a re-run polls it again.
        public var isResumable: Bool { [.submitted, .queued, .running, .succeeded].contains(self) }
    }

    /// Opens (creating if needed) `journal.sqlite` in `directory`.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = (directory as NSString).appendingPathComponent("journal.sqlite")
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // WAL with synchronous=NORMAL: a killed process loses nothing (the log is in the OS);
        // only a power cut could lose the last commits, and never corrupts the journal.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

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
        return migrator
    }

    // MARK: Runs

    public func beginRun(script: String, baseURL: String) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO run (startedAt, script, baseURL) VALUES (?, ?, ?)",
                           arguments: [Date().timeIntervalSince1970, script, baseURL])
            return db.lastInsertedRowID
        }
    }

    public func finishRun(_ id: Int64, outcome: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE run SET finishedAt = ?, outcome = ? WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970, outcome, id])
        }
    }

    // MARK: Tasks

    /// The newest row for `key`, if any.
    public func latest(key: String) async throws -> TaskRecord? {
        try await pool.read { db in
            try TaskRecord.fetchOne(db, sql: "SELECT * FROM task WHERE key = ? ORDER BY id DESC LIMIT 1", arguments: [key])
        }
    }

    /// Written before the POST. Returns the row id.
    public func recordSubmitting(key: String, idempotencyKey: String, runID: Int64, baseURL: String, request: GenerationRequest) async throws -> Int64 {
        try await pool.write { db in
            let now = Date().timeIntervalSince1970
            try db.execute(sql: """
                INSERT INTO task (key, runID, state, idempotencyKey, baseURL, mode, model, prompt, seconds, request, createdAt, updatedAt)
                VALUES (?, ?, 'submitting', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key, runID, idempotencyKey, baseURL, request.mode.rawValue, request.model, request.prompt,
                                 request.plannedSeconds, request.body().encoded(), now, now])
            return db.lastInsertedRowID
        }
    }

    /// Written as soon as the gateway answers the POST.
    public func recordSubmitted(_ row: Int64, taskID: String, gatewayHonorsIdempotencyKeys: Bool) async throws {
        try await pool.write { db in
            try update(db, row, "state = 'submitted', taskID = ?", [taskID])
            if gatewayHonorsIdempotencyKeys {
                try db.execute(sql: "INSERT OR REPLACE INTO gateway (baseURL, honorsIdempotencyKeys) SELECT baseURL, 1 FROM task WHERE id = ?",
                               arguments: [row])
            }
        }
    }

    /// A later run picks the row up (resume or reuse): it now belongs to that run.
    public func adopt(_ row: Int64, runID: Int64) async throws {
        try await pool.write { db in try update(db, row, "runID = ?", [runID]) }
    }

    public func recordState(_ row: Int64, _ state: State, progress: Int? = nil, resultURL: String? = nil) async throws {
        try await pool.write { db in
            try update(db, row, "state = ?, progress = COALESCE(?, progress), resultURL = COALESCE(?, resultURL)",
                       [state.rawValue, progress, resultURL])
        }
    }

    public func recordFailure(_ row: Int64, _ state: State, error: String) async throws {
        try await pool.write { db in try update(db, row, "state = ?, error = ?", [state.rawValue, error]) }
    }

    public func recordDownloaded(_ row: Int64, path: String, sha256: String, bytes: Int64, resultURL: String?) async throws {
        try await pool.write { db in
            try update(db, row, "state = 'downloaded', path = ?, sha256 = ?, bytes = ?, resultURL = COALESCE(?, resultURL), progress = 100",
                       [path, sha256, bytes, resultURL])
        }
    }

    private func update(_ db: Database, _ row: Int64, _ assignments: String, _ values: [(any DatabaseValueConvertible)?]) throws {
        try db.execute(sql: "UPDATE task SET \(assignments), updatedAt = ? WHERE id = ?",
                       arguments: StatementArguments(values + [Date().timeIntervalSince1970, row]))
    }

    /// Whether this gateway has shown (by echoing `Idempotency-Key`) that it replays a
    /// repeated submission instead of billing it twice.
    public func honorsIdempotencyKeys(_ baseURL: String) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT honorsIdempotencyKeys FROM gateway WHERE baseURL = ?", arguments: [baseURL]) ?? false
        }
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
                return try TaskRecord.fetchAll(db, sql: "SELECT * FROM task WHERE runID = ? ORDER BY id", arguments: [runID])
            }
            return try TaskRecord.fetchAll(db, sql: "SELECT * FROM task ORDER BY id")
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
}

/// One row of the `run` table.
public struct RunRecord: Codable, FetchableRecord, Sendable, Equatable {
    public var id: Int64
    public var startedAt: Double
    public var finishedAt: Double?
    public var script: String
    public var baseURL: String
    public var outcome: String?
}
