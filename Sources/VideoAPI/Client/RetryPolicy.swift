import Foundation

/// When and how long to wait before trying a request again: exponential backoff with full
/// jitter, never shorter than the server's `Retry-After`. The one place retries are decided.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// HTTP statuses worth retrying: the server says "later", not "no".
    public static let retryableStatuses: Set<Int> = [429, 502, 503, 504]

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// How a failed attempt ended, as far as retrying is concerned.
    public enum Failure: Sendable {
        /// The server answered with this status (and maybe a Retry-After in seconds).
        case status(Int, retryAfter: Double?)
        /// The connection failed before the request was sent: always safe to retry.
        case notSent
        /// The request may have reached the server (reset or timeout after sending).
        case maybeSent
        /// Nothing listens there (connection refused, no route): reported at once, since it
        /// is more often a wrong URL or a gateway that is down than a blip (and the HTTP client
        /// has already retried the connection until its connect timeout).
        case refused
        /// The HTTP client refused the request itself before sending any of it (an invalid
        /// header value, such as a key with a newline): nothing was sent, and sending it again
        /// would be refused the same way.
        case unsendable
    }

    /// Seconds to wait before attempt `attempt + 1`, or nil to give up. `idempotent` is false
    /// for a submission: one that may have reached the server is never sent again.
    public func delay(after failure: Failure, attempt: Int, idempotent: Bool) -> Double? {
        guard attempt < maxAttempts else { return nil }
        var floor = 0.0
        switch failure {
        case .status(let code, let retryAfter):
            guard Self.isRetryable(status: code, idempotent: idempotent) else { return nil }
            floor = retryAfter ?? 0
        case .notSent:
            break
        case .maybeSent:
            guard idempotent else { return nil }
        case .refused, .unsendable:
            return nil
        }
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return max(floor, Double.random(in: 0...ceiling))
    }

    /// Whether an answer with `status` is worth asking again: "later" statuses always, and any
    /// 5xx for a request that is safe to repeat.
    public static func isRetryable(status: Int, idempotent: Bool) -> Bool {
        retryableStatuses.contains(status) || (idempotent && status >= 500)
    }

    /// `Retry-After` as seconds (delta-seconds form; an HTTP date is read too).
    public static func retryAfterSeconds(_ header: String?) -> Double? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Double(header) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: header) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }
}

/// How often to ask about a running task: quick at first, then about a tenth of the time
/// already waited (so detection lags by at most ~10%), never tighter than the server asks.
public struct PollPolicy: Sendable {
    /// Intervals for the first polls.
    public var initialIntervals: [Double]
    /// After those: at least this many seconds between polls…
    public var minimumInterval: Double
    /// …or this fraction of the elapsed time, whichever is larger…
    public var elapsedFraction: Double
    /// …but never more than this.
    public var maximumInterval: Double

    public init(initialIntervals: [Double] = [1, 1, 2, 2, 2, 2], minimumInterval: Double = 6,
                elapsedFraction: Double = 0.1, maximumInterval: Double = 30) {
        self.initialIntervals = initialIntervals
        self.minimumInterval = minimumInterval
        self.elapsedFraction = elapsedFraction
        self.maximumInterval = maximumInterval
    }

    /// Fast polling for tests and local simulations.
    public static func quick(_ seconds: Double) -> PollPolicy {
        PollPolicy(initialIntervals: [], minimumInterval: seconds, elapsedFraction: 0, maximumInterval: seconds)
    }

    /// Seconds until poll number `poll + 1`, given the time since submission and the
    /// server's hint (`Retry-After` or `openai-poll-after-ms`).
    public func interval(afterPoll poll: Int, elapsed: Double, serverHint: Double?) -> Double {
        let planned = poll < initialIntervals.count
            ? initialIntervals[poll]
            : min(maximumInterval, max(minimumInterval, elapsed * elapsedFraction))
        return max(planned, serverHint ?? 0)
    }
}
