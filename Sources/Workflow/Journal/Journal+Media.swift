import Foundation
import GRDB
import SafeFiles
import VideoAPI

/// Media steps' outputs (last_frame, concat, …), keyed by the step and its inputs.
extension Journal {
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
}
