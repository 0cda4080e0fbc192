/// At most `limit` holders at once; the rest wait in arrival order. Bounds the tasks in
/// flight across the whole run (`--concurrency`), however many coroutines ask.
public actor ConcurrencyLimiter {
    public let limit: Int
    private var held = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) {
        precondition(limit >= 1)
        self.limit = limit
    }

    public func acquire() async {
        if held < limit {
            held += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    public func release() {
        if waiting.isEmpty {
            held -= 1
        } else {
            waiting.removeFirst().resume()  // the permit passes straight on
        }
    }

    public func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            release()
            return value
        } catch {
            release()
            throw error
        }
    }
}
