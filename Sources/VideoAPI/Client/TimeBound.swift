import Foundation

/// Runs `body` until `deadline` at most: past it, `body` is cancelled and `TimeBound.Exceeded`
/// thrown. AsyncHTTPClient's own deadline ends when the response head arrives, so a reply
/// that trickles its body (or a download that stalls) is bounded here.
enum TimeBound {
    struct Exceeded: Error {}

    static func run<T: Sendable>(until deadline: Date, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                let wait = deadline.timeIntervalSinceNow
                if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000)) }
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Exceeded() }
            return value
        }
    }
}
