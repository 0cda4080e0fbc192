import Foundation
import Synchronization

/// Runs `body` until `deadline` at most: past it, `body` is cancelled and `TimeBound.Exceeded`
/// thrown. AsyncHTTPClient's own deadline ends when the response head arrives, so a reply
/// that trickles its body (or a download that stalls) is bounded here.
enum TimeBound {
    struct Exceeded: Error {}

    /// `body` runs as a task of its own that an event-loop timer cancels at the deadline, and
    /// that follows the caller's cancellation. (A task group racing a `Task.sleep` child made
    /// three tasks and a Dispatch timer per request; this makes one task and a loop timer.)
    static func run<T: Sendable>(until deadline: Date, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let wait = deadline.timeIntervalSinceNow
        guard wait > 0 else { throw Exceeded() }
        let work = Task { try await body() }
        let exceeded = Flag()
        let timer = LoopTimer.after(seconds: wait) {
            exceeded.raised.store(true, ordering: .sequentiallyConsistent)
            work.cancel()
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
        } catch {
            // A reply that came in full is kept even if the timer fired as it did.
            throw exceeded.raised.load(ordering: .sequentiallyConsistent) ? Exceeded() : error
        }
    }
}

private final class Flag: Sendable {
    let raised = Atomic<Bool>(false)
}
