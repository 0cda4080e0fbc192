import Foundation
import NIOCore
import Synchronization

/// Runs `body` until `deadline` at most, and with `idle`, until it has gone that long without
/// a `Pulse.beat()`: past either, `body` is cancelled and `TimeBound.Exceeded` thrown. These are
/// reel's only time limits on requests (AsyncHTTPClient is given none of its own), so that
/// they can tell a slow gateway from a process that was held up.
public enum TimeBound {
    public struct Exceeded: Error {}

    /// A limit's timer that runs this much later than it was due was held up with the process
    /// (Ctrl-Z, a laptop asleep, a paused pipe or a long computation holding the event loop):
    /// the reply it was guarding may be sitting unread in the socket, not late.
    static let stallThreshold = 1.0
    /// How long such work gets to finish once the process runs again, before it is cut off.
    /// Reading a reply that already arrived takes milliseconds; a POST cut off here would be
    /// one of unknown outcome (a task the gateway may bill while reel never learns its id).
    static let graceAfterStall = 5.0

    /// `body` runs as a task of its own that an event-loop timer cancels at the limit, and
    /// that follows the caller's cancellation. (A task group racing a `Task.sleep` child made
    /// three tasks and a Dispatch timer per request; this makes one task and a loop timer.)
    /// `pulse` is the one `body` is given, a new one unless the caller beats its own.
    public static func run<T: Sendable>(until deadline: Date, idle: Double? = nil, pulse: Pulse = Pulse(),
                                 _ body: @escaping @Sendable (Pulse) async throws -> T) async throws -> T {
        guard deadline.timeIntervalSinceNow > 0 else { throw Exceeded() }
        let alarm = Alarm<T>(deadline: deadline, idle: idle, pulse: pulse)
        let work = Task { try await body(pulse) }
        alarm.start(cancelling: work)
        defer { alarm.stop() }
        do {
            return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
        } catch {
            // A reply that came in full is kept even if the timer fired as it did.
            throw alarm.rang ? Exceeded() : error
        }
    }

    public static func run<T: Sendable>(until deadline: Date, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await run(until: deadline, idle: nil) { _ in try await body() }
    }

    /// What the work calls whenever it makes progress (a chunk of a download arrived).
    public final class Pulse: Sendable {
        private let last = Atomic<Int64>(Pulse.now)
        public init() {}
        public func beat() { last.store(Pulse.now, ordering: .relaxed) }
        public var secondsSinceLastBeat: Double { Double(Pulse.now - last.load(ordering: .relaxed)) / 1e9 }
        fileprivate static var now: Int64 { Int64(NIODeadline.now().uptimeNanoseconds) }
    }

    /// The limits' timer. It rings when the next limit is due; then it cancels the work, or
    /// (progress since) sets itself for the next one, or (it rang late, after a stall) gives
    /// the work `graceAfterStall` once more.
    private final class Alarm<T: Sendable>: Sendable {
        private struct State {
            var work: Task<T, any Error>?
            var timer: Scheduled<Void>?
            var stopped = false
            var graced = false
            var rang = false
        }
        private let state = Mutex(State())
        private let deadline: Date
        private let idle: Double?
        private let pulse: Pulse

        init(deadline: Date, idle: Double?, pulse: Pulse) {
            self.deadline = deadline
            self.idle = idle
            self.pulse = pulse
        }

        var rang: Bool { state.withLock { $0.rang } }

        func start(cancelling work: Task<T, any Error>) {
            state.withLock { state in
                state.work = work
                state.timer = set(in: nextLimit())
            }
        }

        func stop() {
            let timer = state.withLock { state in
                state.stopped = true
                state.work = nil
                return state.timer
            }
            timer?.cancel()
        }

        /// Seconds to the nearer of the deadline and the idle limit (≤ 0: reached).
        private func nextLimit() -> Double {
            let toDeadline = deadline.timeIntervalSinceNow
            guard let idle else { return toDeadline }
            return min(toDeadline, idle - pulse.secondsSinceLastBeat)
        }

        private func set(in seconds: Double) -> Scheduled<Void> {
            let due = Date().addingTimeInterval(seconds)
            return LoopTimer.after(seconds: seconds) { self.ring(due: due) }
        }

        private func ring(due: Date) {
            let late = -due.timeIntervalSinceNow
            let work = state.withLock { state -> Task<T, any Error>? in
                if state.stopped { return nil }
                if late > TimeBound.stallThreshold && !state.graced {
                    state.graced = true
                    state.timer = set(in: TimeBound.graceAfterStall)
                    return nil
                }
                let left = nextLimit()
                if left > 0 {
                    state.timer = set(in: left)
                    return nil
                }
                state.rang = true
                return state.work
            }
            work?.cancel()
        }
    }
}

/// Runs `operation` for at most `limit`: past it, `operation` is cancelled and, once it has
/// stopped, `TimeBound.Exceeded` is thrown. The one "run this, but not for longer than that"
/// of reel (a request's time limits, a media step's ffmpeg), on an event-loop timer. Not for
/// work that holds the loop itself (a spinning Lua script): its timer could not ring before
/// the spin ends, which is why RunEstimate cuts its pass from a Dispatch thread.
public func withTimeout<T: Sendable>(_ limit: Duration, operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
    return try await TimeBound.run(until: Date().addingTimeInterval(seconds), operation)
}

