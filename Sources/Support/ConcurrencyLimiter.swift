import Synchronization

/// At most `limit` holders at once; the rest wait, in arrival order, as continuations.
/// Bounds generations in flight across a run (`--concurrency`) and HTTP requests in flight
/// across a client. `release` is synchronous so a `defer` can call it. A waiter whose task is
/// cancelled (Ctrl-C) leaves the queue at once with `CancellationError`.
public final class ConcurrencyLimiter: Sendable {
    public let limit: Int

    private struct State {
        var held = 0
        var nextTicket: UInt64 = 0
        // Tickets in arrival order, as an array and a head index: removing the first of 10,000
        // waiters must not shift the other 9,999. A cancelled ticket stays here and is skipped.
        var queue: [UInt64] = []
        var head = 0
        var waiting: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    }
    private let state = Mutex(State())

    public init(limit: Int) {
        precondition(limit >= 1)
        self.limit = limit
    }

    public func acquire() async throws {
        let ticket = state.withLock { s -> UInt64 in
            s.nextTicket += 1
            return s.nextTicket
        }
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLock { s in
                    if Task.isCancelled { return false }
                    if s.held < limit {
                        s.held += 1
                        return true
                    }
                    s.queue.append(ticket)
                    s.waiting[ticket] = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: ticket) }?.resume(returning: false)
        }
        guard granted else { throw CancellationError() }
    }

    public func release() {
        let next: CheckedContinuation<Bool, Never>? = state.withLock { s in
            while s.head < s.queue.count {
                let ticket = s.queue[s.head]
                s.head += 1
                if s.head > 1024 && s.head * 2 > s.queue.count {
                    s.queue.removeFirst(s.head)
                    s.head = 0
                }
                if let continuation = s.waiting.removeValue(forKey: ticket) { return continuation }  // the permit passes straight on
            }
            s.held -= 1
            return nil
        }
        next?.resume(returning: true)
    }

    public func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }
}
