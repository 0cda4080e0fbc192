import VideoAPI

/// What the journal already holds for a run's requests, looked up under the key a live run
/// claims them by (`RequestKey`: gateway, canonical request, occurrence), so the plan a dry
/// pass makes counts what a re-run reuses, or picks up, instead of paying again.
public final class JournalHoldings: Sendable {
    private let journal: Journal
    private let identity: String
    private let occurrences = OccurrenceCounter()

    /// `gatewayIdentity`: what the journal knows the gateway as (`LiveGenerator`'s identity).
    public init(journal: Journal, gatewayIdentity: String) {
        self.journal = journal
        identity = gatewayIdentity
    }

    /// The request's journal key, and whether the journal holds it: a downloaded video, or a
    /// task an earlier run submitted (a live run reuses or resumes it: paid then, free now).
    /// Called in the script's order of calls, as a live run claims them.
    func look(_ request: GenerationRequest, options: GenerationOptions) -> (key: String, held: Bool)? {
        guard let base = try? RequestKey.base(baseURL: identity, request: request, inputKeys: options.inputKeys) else { return nil }
        let key = RequestKey.occurrence(base, occurrences.next(base))
        guard !options.fresh, let row = try? journal.latest(key: key) else { return (key, false) }
        return (key, row.state.isPaid)
    }
}
