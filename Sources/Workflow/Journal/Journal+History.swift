import Foundation
import GRDB
import SafeFiles
import VideoAPI

/// What history, the gallery and the ledger read.
extension Journal {
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
