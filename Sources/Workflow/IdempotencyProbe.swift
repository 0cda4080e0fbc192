import Foundation

/// Until reel knows whether a gateway honours `Idempotency-Key`, its first POST goes alone:
/// a lost reply can then be re-sent safely for every submission after it, and at most one
/// submission is ever at risk on a gateway reel has not met before.
actor IdempotencyProbe {
    enum Role { case known, probe, unknown }
    private let journal: Journal
    private let baseURL: String
    /// Read from the journal on first use.
    private var known: Bool?
    /// The gateway answered a probe without echoing the key: it does not honour it.
    private var settled = false
    private var probing = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(journal: Journal, baseURL: String) {
        self.journal = journal
        self.baseURL = baseURL
    }

    func enter() async -> Role {
        if known == nil { known = (try? await journal.honorsIdempotencyKeys(baseURL)) ?? false }
        if known == true { return .known }
        if settled { return .unknown }
        if !probing {
            probing = true
            return .probe
        }
        await withCheckedContinuation { waiting.append($0) }
        return known == true ? .known : .unknown
    }

    /// `answered`: the gateway replied to the POST (so its echo, or its silence, is telling).
    func leave(_ role: Role, learned: Bool, answered: Bool) {
        if learned { known = true }
        guard role == .probe else { return }
        if answered && !learned { settled = true }
        probing = false
        let released = waiting
        waiting = []
        for continuation in released { continuation.resume() }
    }
}
