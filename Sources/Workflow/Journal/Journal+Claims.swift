import Foundation
import GRDB
import SafeFiles
import VideoAPI

/// The claim state machine: which run submits, resumes, reuses or waits for a request, and
/// each step of a task's row after it.
extension Journal {
    /// The newest row for `key`, if any.
    static func latest(_ db: Database, key: String) throws -> TaskRecord? {
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
        /// Each local or inline input's SHA-256 (`RequestKey.contentHashes`).
        public var sha256: [MediaInput: String]
        /// The body the backend sends for it, media by content hash.
        public var sent: String
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

    static func decide(_ db: Database, _ s: NewSubmission, fresh: Bool, resubmitUnknown: Bool, me: ProcessIdentity) throws -> Claim {
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
                             seconds: s.request.plannedSeconds, request: s.request.journaled(sha256: s.sha256).encoded(), sent: s.sent, progress: nil, resultURL: nil,
                             path: nil, sha256: nil, bytes: nil, error: nil, createdAt: now, updatedAt: now,
                             ownerPID: me.pid, ownerStart: me.start, callSite: s.callSite)
        try db.cachedStatement(sql: """
            INSERT INTO task (key, runID, state, idempotencyKey, baseURL, mode, model, prompt, seconds, request, sent, createdAt, updatedAt,
                              ownerPID, ownerStart, callSite)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [row.key, row.runID, row.state.rawValue, row.idempotencyKey, row.baseURL, row.mode, row.model, row.prompt,
                             row.seconds, row.request, row.sent, row.createdAt, row.updatedAt, row.ownerPID, row.ownerStart, row.callSite])
        row.id = db.lastInsertedRowID
        return .submit(row)
    }

    static func own(_ db: Database, _ row: Int64, _ me: ProcessIdentity) throws {
        try db.cachedStatement(sql: "UPDATE task SET ownerPID = ?, ownerStart = ? WHERE id = ?").execute(arguments: [me.pid, me.start, row])
    }

    static func reread(_ db: Database, _ row: Int64) throws -> TaskRecord {
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


    static func update(_ db: Database, _ row: Int64, _ assignments: String, _ values: [(any DatabaseValueConvertible)?]) throws {
        // Prepared once per assignment list (a handful of constant strings) and then reused.
        try db.cachedStatement(sql: "UPDATE task SET \(assignments), updatedAt = ? WHERE id = ?")
            .execute(arguments: StatementArguments(values + [Date().timeIntervalSince1970, row]))
    }

    /// Whether this gateway has shown (by echoing `Idempotency-Key`) that it replays a
    /// repeated submission instead of billing it twice.
    public func honorsIdempotencyKeys(_ baseURL: String) async throws -> Bool {
        try await pool.read { db in try Self.honorsIdempotencyKeys(db, baseURL) }
    }

    static func honorsIdempotencyKeys(_ db: Database, _ baseURL: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT honorsIdempotencyKeys FROM gateway WHERE baseURL = ?", arguments: [baseURL]) ?? false
    }
}
