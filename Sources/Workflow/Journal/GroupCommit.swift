import Foundation
import GRDB
import Synchronization

/// The journal's writes from generations running side by side, committed together: the
/// writes that arrive while one transaction is being written all go into the next one,
/// each in a savepoint of its own (a write that fails rolls back alone and fails only its
/// caller). A write is committed (in the WAL) when its call returns, as before; thirty-two
/// generations at once now share a commit and one trip to the database's queue instead of
/// each paying for its own. Writes commit in the order they were handed in.
///
/// Neither a write nor its waits can be cancelled: a task id being recorded after Ctrl-C
/// (which cancels the generation) must still be recorded.
final class GroupCommit: Sendable {
    private let pool: DatabasePool
    /// Seconds a batch keeps trying while another process holds the journal locked.
    private let patience: Double
    /// Called when a batch begins to wait for another process's lock.
    private let onLockWait: (@Sendable () -> Void)?
    private struct Queue {
        var writes: [any BatchedWrite] = []
        var draining = false
    }
    private let queue = Mutex(Queue())

    init(pool: DatabasePool, patience: Double, onLockWait: (@Sendable () -> Void)?) {
        self.pool = pool
        self.patience = patience
        self.onLockWait = onLockWait
    }

    /// Runs `body` in the next transaction and returns its result once that has committed.
    /// `enqueued` runs as soon as the write has its place in the order (before it commits).
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T, enqueued: (() -> Void)? = nil) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let write = PendingWrite(body: body, continuation: continuation)
            let startDraining = queue.withLock { queue in
                queue.writes.append(write)
                defer { queue.draining = true }
                return !queue.draining
            }
            enqueued?()
            if startDraining { Task { await self.drain() } }
        }
    }

    /// Commits batch after batch until no write is waiting.
    private func drain() async {
        while true {
            let batch = queue.withLock { queue in
                let taken = queue.writes
                queue.writes = []
                if taken.isEmpty { queue.draining = false }
                return taken
            }
            if batch.isEmpty { return }
            let failure = await commit(batch)
            for write in batch { write.finish(batchFailure: failure) }
        }
    }

    /// One transaction for the whole batch, waiting out another process's lock for up to
    /// `patience` seconds (with backoff, not holding a thread). Returns why it failed, if it did.
    private func commit(_ batch: [any BatchedWrite]) async -> (any Error)? {
        do {
            // Not cancellable: the batch's writes must be recorded even after Ctrl-C.
            try await LockPatience.retrying(patience, onWait: onLockWait, cancellable: false) {
                try await pool.writeWithoutTransaction { db in
                    try db.inTransaction(.immediate) {
                        for write in batch { write.apply(db) }
                        return .commit
                    }
                }
            }
            return nil
        } catch {
            return error
        }
    }
}

/// One caller's write, type-erased so that writes of different results share a batch.
private protocol BatchedWrite: Sendable {
    /// Runs the write in a savepoint of the batch's transaction and keeps its outcome.
    func apply(_ db: Database)
    /// Hands the caller its outcome, or the batch's failure (then nothing of it was kept).
    func finish(batchFailure: (any Error)?)
}

private final class PendingWrite<T: Sendable>: BatchedWrite {
    let body: @Sendable (Database) throws -> T
    let continuation: CheckedContinuation<T, any Error>
    /// Set by `apply`; a retried batch (after a lock) applies it again.
    let outcome = Mutex<Result<T, any Error>?>(nil)

    init(body: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        self.body = body
        self.continuation = continuation
    }

    func apply(_ db: Database) {
        let result = Result { try Savepoint.run(in: db) { try body(db) } }
        outcome.withLock { $0 = result }
    }

    func finish(batchFailure: (any Error)?) {
        if let batchFailure {
            continuation.resume(throwing: batchFailure)
        } else if let result = outcome.withLock({ $0 }) {
            continuation.resume(with: result)
        } else {
            continuation.resume(throwing: CancellationError())  // unreachable: a committed batch applied every write
        }
    }
}

/// A write's savepoint in the batch's transaction: GRDB's `inSavepoint`, with its statements
/// prepared once per connection rather than compiled for every write (SAVEPOINT and RELEASE
/// were 7% of a generation's CPU). Unlike GRDB's, it never opens a transaction of its own:
/// if SQLite rolled the batch back (a full disk), the write fails with the batch instead of
/// committing alone.
enum Savepoint {
    static func run<T>(in db: Database, _ body: () throws -> T) throws -> T {
        guard db.isInsideTransaction else {
            throw DatabaseError(resultCode: .SQLITE_ABORT, message: "the journal's transaction was rolled back")
        }
        try db.cachedStatement(sql: "SAVEPOINT write").execute()
        let value: T
        do {
            value = try body()
        } catch {
            // As GRDB does: roll back to the savepoint, then release it (never release what
            // could not be rolled back); the write's own error is the one reported.
            do {
                try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT write").execute()
                try db.cachedStatement(sql: "RELEASE SAVEPOINT write").execute()
            } catch {}
            throw error
        }
        try db.cachedStatement(sql: "RELEASE SAVEPOINT write").execute()
        return value
    }
}
