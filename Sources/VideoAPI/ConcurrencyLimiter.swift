import Foundation

/// At most `limit` holders at once; the rest wait, in arrival order, as continuations.
/// Bounds generations in flight across a run (`--concurrency`) and HTTP requests in flight
/// across a client. `release` is synchronous so a `defer` can call it.
public final class ConcurrencyLimiter: @unchecked Sendable {
    public let limit: Int
    private let lock = NSLock()
    private var held = 0
    // A queue as an array and a head index: removing the first of 10,000 waiters must not
    // shift the other 9,999.
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    public init(limit: Int) {
        precondition(limit >= 1)
        self.limit = limit
    }

    public func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = lock.withLock {
                guard held < limit else {
                    waiting.append(continuation)
                    return false
                }
                held += 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    public func release() {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            guard head < waiting.count else {
                held -= 1
                return nil
            }
            let first = waiting[head]  // the permit passes straight on
            head += 1
            if head > 1024 && head * 2 > waiting.count {
                waiting.removeFirst(head)
                head = 0
            }
            return first
        }
        next?.resume()
    }

    public func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }
}
