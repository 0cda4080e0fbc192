import Synchronization
import VideoAPI

/// A run's cap on what it submits, in seconds of video (`--max-seconds`, `budget{seconds=…}`).
/// Every new submission reserves its planned seconds here before its POST, under one lock, so
/// concurrent submissions cannot overshoot; reused and resumed takes cost nothing; a submission
/// that is not sent gives its seconds back.
public final class Budget: Sendable {
    private struct State {
        var maxSeconds: Int64?
        var reserved: Int64 = 0
    }
    private let state: Mutex<State>

    public init(maxSeconds: Int64? = nil) {
        state = Mutex(State(maxSeconds: maxSeconds))
    }

    /// Seconds reserved (submitted, or being submitted) so far, and the cap.
    public var used: Int64 { state.withLock { $0.reserved } }
    public var maxSeconds: Int64? { state.withLock { $0.maxSeconds } }

    /// Sets the cap; a script may lower it, never raise it past the command line's.
    public func limit(to seconds: Int64) {
        state.withLock { $0.maxSeconds = min(seconds, $0.maxSeconds ?? seconds) }
    }

    /// Reserves `seconds` for a submission, or refuses with a `budget` error that says what
    /// is left.
    public func reserve(_ seconds: Int64) throws(VideoAPIError) {
        let refusal: String? = state.withLock { state in
            guard let cap = state.maxSeconds else {
                state.reserved += seconds
                return nil
            }
            guard state.reserved + seconds <= cap else {
                return "not submitted: its \(seconds) s of video would take this run past its budget of \(cap) s (\(state.reserved) s used, \(cap - state.reserved) s left); raise --max-seconds or budget{seconds = …} to allow more"
            }
            state.reserved += seconds
            return nil
        }
        if let refusal { throw VideoAPIError(.budget, refusal) }
    }

    /// Gives back a reservation whose submission was not sent.
    public func release(_ seconds: Int64) {
        state.withLock { $0.reserved -= seconds }
    }
}
