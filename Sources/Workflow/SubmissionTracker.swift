import Foundation
import Synchronization

/// Claims and their POSTs in flight, and whether new ones may start. Stopping cancels the
/// POSTs: one on the wire is shielded from that inside the client; one waiting out a backoff
/// gives up.
final class SubmissionTracker: Sendable {
    private struct State {
        var reserved = 0
        var inFlight: Set<Task<String, any Error>> = []
        var stopped = false
    }
    private let state = Mutex(State())

    /// Reserves a place for a claim and its submission, unless the run is stopping; `drain`
    /// waits until every place is given back with `end`.
    func begin() -> Bool {
        state.withLock {
            guard !$0.stopped else { return false }
            $0.reserved += 1
            return true
        }
    }

    var isStopping: Bool { state.withLock { $0.stopped } }

    /// A reserved place's POST; cancelled at once if a stop came in between.
    func attach(_ task: Task<String, any Error>) {
        let cancel = state.withLock {
            $0.inFlight.insert(task)
            return $0.stopped
        }
        if cancel { task.cancel() }
    }

    func detach(_ task: Task<String, any Error>) {
        _ = state.withLock { $0.inFlight.remove(task) }
    }

    func end() {
        state.withLock { $0.reserved -= 1 }
    }

    func stop() {
        let cancels = state.withLock {
            $0.stopped = true
            return $0.inFlight
        }
        for task in cancels { task.cancel() }
    }

    func drain(timeout: Double) async {
        let deadline = Date().addingTimeInterval(timeout)
        while state.withLock({ $0.reserved > 0 }) && Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}
