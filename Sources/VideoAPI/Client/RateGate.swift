import Foundation

/// One gateway-wide pause: after a 429 every request waits out the server's `Retry-After`,
/// so hundreds of concurrent `map` items back off together instead of stampeding.
actor RateGate {
    private var pausedUntil = Date.distantPast

    /// Seconds until the pause is over (0: none). The caller waits, so that it can first
    /// check the wait against its own deadline.
    func remaining() -> Double { max(0, pausedUntil.timeIntervalSinceNow) }

    /// Pauses everyone for `seconds` (a later, longer pause wins).
    func pause(for seconds: Double) {
        let until = Date().addingTimeInterval(seconds)
        if until > pausedUntil { pausedUntil = until }
    }
}
