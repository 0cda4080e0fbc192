import Foundation
import GRDB
import SafeFiles
import Support
import VideoAPI

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
    /// The typed request (`GenerationRequest.journaled`); read it with `generationRequest`.
    public var request: String
    /// The body sent, media by content hash (nil in rows journaled before it was kept).
    public var sent: String?
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

    /// The request, typed: the one reading of the journaled record that history, the
    /// gallery and the ledger use (rows of every journal version).
    public var generationRequest: GenerationRequest? { GenerationRequest(journaled: request) }

    /// The body that was sent; for rows from before it was kept, the request as then
    /// journaled (the same fields, a local file shown instead of hashed).
    public var sentBody: JSONValue? { try? JSONValue.parse(Array((sent ?? request).utf8)) }

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
                  request: try row.decode(forColumn: "request"), sent: try row.decode(forColumn: "sent"), progress: try row.decode(forColumn: "progress"),
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
