import Foundation
import Synchronization

/// Takes go to the journal (and on to the gateway) in the order the script made its calls:
/// the call numbered n waits until call n − 1 has been claimed in the journal, so `map` over a
/// list submits its items in list order even with many in flight. Each script (each `--each`
/// row's) counts its own calls. The wait is bounded: a call that never reaches the generator
/// (made where Lua cannot wait) holds the next one up for `patience`, not for ever.
final class SubmissionOrder: Sendable {
    struct Turn: Sendable, Hashable {
        let script: Int
        let sequence: Int
    }

    private struct Script {
        /// Every call up to this one has been claimed.
        var through = 0
        var claimed: Set<Int> = []
        var waiters: [Int: [CheckedContinuation<Void, Never>]] = [:]
    }
    private let scripts = Mutex<[Int: Script]>([:])
    let patience: Duration

    init(patience: Duration = .milliseconds(500)) { self.patience = patience }

    /// Returns when call `turn.sequence − 1` of its script has been claimed (or after `patience`).
    func waitForTurn(_ turn: Turn) async {
        guard turn.sequence > 1 else { return }
        let previous = turn.sequence - 1
        let ready = scripts.withLock { $0[turn.script, default: Script()].through >= previous }
        if ready { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let now = self.scripts.withLock { scripts -> Bool in
                        if scripts[turn.script, default: Script()].through >= previous { return true }
                        scripts[turn.script, default: Script()].waiters[previous, default: []].append(continuation)
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: self.patience) }
            await group.next()
            group.cancelAll()
            // The other child is still parked if the patience ran out: let it go.
            self.release(turn.script, upTo: previous)
        }
    }

    /// Call `turn` has been claimed (or failed before it could be): later calls may go.
    func claimed(_ turn: Turn) {
        let resumed: [CheckedContinuation<Void, Never>] = scripts.withLock { scripts in
            var script = scripts[turn.script, default: Script()]
            script.claimed.insert(turn.sequence)
            while script.claimed.contains(script.through + 1) {
                script.through += 1
                script.claimed.remove(script.through)
            }
            var ready: [CheckedContinuation<Void, Never>] = []
            for (sequence, waiting) in script.waiters where sequence <= script.through {
                ready += waiting
                script.waiters[sequence] = nil
            }
            scripts[turn.script] = script
            return ready
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Resumes whoever waits for `sequence` (a wait that ran out of patience).
    private func release(_ script: Int, upTo sequence: Int) {
        let waiting: [CheckedContinuation<Void, Never>] = scripts.withLock { scripts in
            let list = scripts[script]?.waiters[sequence] ?? []
            scripts[script]?.waiters[sequence] = nil
            return list
        }
        for continuation in waiting { continuation.resume() }
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
