import Foundation
import Synchronization

/// Takes go to the journal (and on to the gateway) in the order the script made its calls:
/// the call numbered n waits until call n − 1 has been claimed in the journal, so `map` over a
/// list submits its items in list order even with many in flight. Each script (each `--each`
/// row's) counts its own calls. The wait is bounded: a call that never reaches the generator
/// (made where Lua cannot wait) holds the next one up for `patience`, not for ever. A call
/// that has reached it holds the next one up until it is claimed, however long it waits for
/// its own turn or for a free place (`--concurrency`): else, with more calls than places,
/// every later call ran out of patience while the first ones waited, and they went to the
/// gateway in whatever order the sweep let them go.
final class SubmissionOrder: Sendable {
    struct Turn: Sendable, Hashable {
        let script: Int
        let sequence: Int
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        let since: ContinuousClock.Instant
    }

    private struct Script {
        /// Every call up to this one has been claimed.
        var through = 0
        var claimed: Set<Int> = []
        /// Calls that reached the generator and are not claimed yet: waits for them do not
        /// run out of patience.
        var arrived: Set<Int> = []
        /// By the call each waits for.
        var waiters: [Int: Waiter] = [:]
    }

    private struct State {
        var scripts: [Int: Script] = [:]
        /// One task sweeps waits that ran out of patience, while any wait is parked (a task
        /// per wait would cost ten thousand tasks' memory with ten thousand in flight).
        var sweeping = false
    }
    private let state = Mutex(State())
    let patience: Duration

    init(patience: Duration = .milliseconds(500)) { self.patience = patience }

    /// Returns when call `turn.sequence − 1` of its script has been claimed (or after `patience`,
    /// if that call never reached the generator).
    func waitForTurn(_ turn: Turn) async {
        // From here on this call will say it is claimed, whichever way it ends (`ClaimSignal`).
        state.withLock { state in
            if state.scripts[turn.script, default: Script()].through < turn.sequence {
                state.scripts[turn.script, default: Script()].arrived.insert(turn.sequence)
            }
        }
        guard turn.sequence > 1 else { return }
        let previous = turn.sequence - 1
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (ready, startSweeper) = state.withLock { state -> (Bool, Bool) in
                if state.scripts[turn.script, default: Script()].through >= previous { return (true, false) }
                state.scripts[turn.script, default: Script()].waiters[previous] = Waiter(continuation: continuation, since: .now)
                defer { state.sweeping = true }
                return (false, !state.sweeping)
            }
            if ready { continuation.resume() }
            if startSweeper { Task { await self.sweep() } }
        }
    }

    /// Waits for the turn of the call `options` describe (none without a sequence number),
    /// and returns what says it has been claimed.
    func waitForTurn(of options: GenerationOptions) async -> ClaimSignal {
        let turn = options.sequence.map { Turn(script: options.script, sequence: $0) }
        if let turn { await waitForTurn(turn) }
        return ClaimSignal(self, turn)
    }

    /// Call `turn` has been claimed (or failed before it could be): later calls may go.
    func claimed(_ turn: Turn) {
        let resumed: [CheckedContinuation<Void, Never>] = state.withLock { state in
            var script = state.scripts[turn.script, default: Script()]
            script.claimed.insert(turn.sequence)
            script.arrived.remove(turn.sequence)
            while script.claimed.contains(script.through + 1) {
                script.through += 1
                script.claimed.remove(script.through)
            }
            var ready: [CheckedContinuation<Void, Never>] = []
            for (sequence, waiter) in script.waiters where sequence <= script.through {
                ready.append(waiter.continuation)
                script.waiters[sequence] = nil
            }
            state.scripts[turn.script] = script
            return ready
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Lets go of waits older than `patience` for calls that have not arrived, until no wait
    /// is left.
    private func sweep() async {
        while true {
            try? await Task.sleep(for: patience / 2)
            let (expired, done): ([CheckedContinuation<Void, Never>], Bool) = state.withLock { state in
                let now = ContinuousClock.now
                var expired: [CheckedContinuation<Void, Never>] = []
                var left = 0
                for key in state.scripts.keys {
                    for (sequence, waiter) in state.scripts[key]!.waiters {
                        if now - waiter.since >= patience && !state.scripts[key]!.arrived.contains(sequence) {
                            expired.append(waiter.continuation)
                            state.scripts[key]!.waiters[sequence] = nil
                        } else {
                            left += 1
                        }
                    }
                }
                if left == 0 { state.sweeping = false }
                return (expired, left == 0)
            }
            for continuation in expired { continuation.resume() }
            if done { return }
        }
    }
}

/// Says "claimed" once, whichever way a generation ends.
final class ClaimSignal: Sendable {
    private let order: SubmissionOrder?
    private let turn: SubmissionOrder.Turn?
    private let sent = Mutex(false)

    init(_ order: SubmissionOrder?, _ turn: SubmissionOrder.Turn?) {
        self.order = order
        self.turn = turn
    }

    func send() {
        guard let order, let turn, sent.withLock({ sent in defer { sent = true }; return !sent }) else { return }
        order.claimed(turn)
    }
}
