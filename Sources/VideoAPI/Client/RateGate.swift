import Foundation

/// One gateway-wide pause: after a 429 every request waits out the server's `Retry-After`,
/// so hundreds of concurrent `map` items back off together instead of stampeding.
actor RateGate {
    private var pausedUntil = Date.distantPast

    /// Waits until any pause is over.
    func pass() async throws {
        while true {
            let wait = pausedUntil.timeIntervalSinceNow
            if wait <= 0 { return }
            try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000))
        }
    }

    /// Pauses everyone for `seconds` (a later, longer pause wins).
    func pause(for seconds: Double) {
        let until = Date().addingTimeInterval(seconds)
        if until > pausedUntil { pausedUntil = until }
    }
}
