import Synchronization
import VideoAPI

/// A run's cap on what it submits, in seconds of video (`--max-seconds`, `budget{seconds=…}`)
/// and, where prices are set, in money (`--max-cost`).
/// Every new submission reserves its planned seconds here before its POST, under one lock, so
/// concurrent submissions cannot overshoot; reused and resumed takes cost nothing; a submission
/// that is not sent gives its seconds back.
public final class Budget: Sendable {
    private struct State {
        var maxSeconds: Int64?
        var reserved: Int64 = 0
        var maxCost: Double?
        var reservedCost = 0.0
    }
    private let state: Mutex<State>
    public let prices: Prices

    public init(maxSeconds: Int64? = nil, maxCost: Double? = nil, prices: Prices = Prices()) {
        state = Mutex(State(maxSeconds: maxSeconds, maxCost: maxCost))
        self.prices = prices
    }

    /// The same caps and prices with nothing reserved: what a plan's dry pass counts against,
    /// so it refuses what the run would.
    public func unused() -> Budget {
        let caps = state.withLock { ($0.maxSeconds, $0.maxCost) }
        return Budget(maxSeconds: caps.0, maxCost: caps.1, prices: prices)
    }

    /// Money reserved so far (with prices set).
    public var usedCost: Double { state.withLock { $0.reservedCost } }

    /// Seconds reserved (submitted, or being submitted) so far, and the cap.
    public var used: Int64 { state.withLock { $0.reserved } }
    public var maxSeconds: Int64? { state.withLock { $0.maxSeconds } }

    /// Sets the cap; a script may lower it, never raise it past the command line's.
    public func limit(to seconds: Int64) {
        state.withLock { $0.maxSeconds = min(seconds, $0.maxSeconds ?? seconds) }
    }

    /// Reserves what `request` will cost — its planned seconds and, with `--max-cost`, its
    /// price — or refuses with a `budget` error that says what is left.
    public func reserve(_ request: GenerationRequest) throws(VideoAPIError) {
        let seconds = request.plannedSeconds
        let cost = prices.cost(of: request)
        let refusal: String? = state.withLock { state in
            if let cap = state.maxSeconds, state.reserved + seconds > cap {
                return "not submitted: its \(seconds) s of video would take this run past its budget of \(cap) s (\(state.reserved) s used, \(cap - state.reserved) s left); raise --max-seconds or budget{seconds = …} to allow more"
            }
            if let cap = state.maxCost {
                guard let cost else {
                    return "not submitted: --max-cost is set but \(request.model) has no price, so its cost is unknown; set it in reel.json or with --price"
                }
                if state.reservedCost + cost > cap + 1e-9 {
                    return "not submitted: its \(prices.format(cost)) would take this run past its budget of \(prices.format(cap)) (\(prices.format(state.reservedCost)) used); raise --max-cost to allow more"
                }
            }
            state.reserved += seconds
            state.reservedCost += cost ?? 0
            return nil
        }
        if let refusal { throw VideoAPIError(.budget, refusal) }
    }

    /// Gives back a reservation whose submission was not sent.
    public func release(_ request: GenerationRequest) {
        let cost = prices.cost(of: request) ?? 0
        state.withLock {
            $0.reserved -= request.plannedSeconds
            $0.reservedCost -= cost
        }
    }
}
