import Foundation
import GRDB

/// Waiting out another process's lock on the journal (a second run, a backup tool, a sqlite3
/// shell in a transaction): tries again after 50 ms, doubling up to 1 s between tries, for
/// up to `patience` seconds, and says so once when a wait begins, so a run held up by
/// somebody else's lock does not look hung.
struct LockPatience {
    private let deadline: Date
    private var delay = 0.05
    private var said = false
    private let onWait: (@Sendable () -> Void)?

    init(_ patience: Double, onWait: (@Sendable () -> Void)?) {
        deadline = Date().addingTimeInterval(patience)
        self.onWait = onWait
    }

    /// Seconds to wait before the next try after `error`; nil when it is not a lock or
    /// patience is spent (the caller then fails with it).
    mutating func delay(after error: any Error) -> Double? {
        guard Self.isLock(error), Date() < deadline else { return nil }
        if !said {
            said = true
            onWait?()
        }
        defer { delay = min(delay * 2, 1) }
        return delay
    }

    static func isLock(_ error: any Error) -> Bool {
        if let error = error as? DatabaseError { return error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED }
        return error is CreationLockHeld
    }

    /// Another reel process is creating the journal's tables (it holds `journal.lock`).
    struct CreationLockHeld: Error, CustomStringConvertible {
        var description: String { "another reel process is setting up the journal" }
    }

    /// `body` until it does not fail for a lock, holding the thread while it waits: for
    /// commands that do nothing else meanwhile.
    static func retryingOnThisThread<T>(_ patience: Double, onWait: (@Sendable () -> Void)?, _ body: () throws -> T) throws -> T {
        var waits = LockPatience(patience, onWait: onWait)
        while true {
            do {
                return try body()
            } catch {
                guard let delay = waits.delay(after: error) else { throw error }
                usleep(UInt32(delay * 1_000_000))
            }
        }
    }

    /// The same without holding a thread between tries (a name of its own, so that a
    /// synchronous body in an async function cannot pick the other one). `cancellable`: a cancelled task stops
    /// waiting (Ctrl-C while a run waits to open the journal); the journal's writes wait on,
    /// as what they record must be recorded even after Ctrl-C.
    static func retrying<T>(_ patience: Double, onWait: (@Sendable () -> Void)?, cancellable: Bool = true,
                            _ body: () async throws -> T) async throws -> T {
        var waits = LockPatience(patience, onWait: onWait)
        while true {
            do {
                return try await body()
            } catch {
                guard let delay = waits.delay(after: error) else { throw error }
                let nanoseconds = UInt64(delay * 1_000_000_000)
                if cancellable { try await Task.sleep(nanoseconds: nanoseconds) } else { try? await Task.sleep(nanoseconds: nanoseconds) }
            }
        }
    }
}
