import Foundation

/// Where the gateway is and how patient to be with it.
public struct ClientConfiguration: Sendable {
    /// The gateway, without `/v1` (a trailing slash or `/v1` is trimmed).
    public var baseURL: String
    /// Sent as `Authorization: Bearer …` to the gateway's own host only; never logged.
    public var apiKey: String?
    /// Seconds one HTTP exchange may take.
    public var requestTimeout: Double = 60
    /// Seconds to establish a connection, retries of refused connections included: a
    /// gateway that is down is reported within this.
    public var connectTimeout: Double = 5
    /// Seconds a task may take from submission to result.
    public var taskTimeout: Double = defaultTaskTimeout
    /// Half an hour: `--timeout`'s default too, so the help says what the client does.
    public static let defaultTaskTimeout: Double = 30 * 60
    public var retry = RetryPolicy()
    public var poll = PollPolicy()
    /// A JSON reply larger than this is refused (a gateway gone wrong, not a task).
    public var maxResponseBytes = 4 << 20
    /// A download larger than this is refused and removed.
    public var maxDownloadBytes = 4 << 30
    /// Connections kept per host: the generator's concurrency, up to `maxConnectionsPerHost`.
    public var connectionsPerHost = 8
    /// Past this many, requests wait for a free connection: thousands of tasks in flight
    /// need thousands of polls now and then, not thousands of open sockets.
    public static let maxConnectionsPerHost = 64

    public init(baseURL: String, apiKey: String?) {
        var base = baseURL.trimmingCharacters(in: .whitespacesAndNewlines)
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        self.baseURL = base
        self.apiKey = apiKey
    }

    /// What is wrong with the base URL, if anything, and how to fix it.
    public var baseURLProblem: String? {
        guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host?.isEmpty == false
        else {
            return "the base URL '\(baseURL)' is not an http(s) URL (set REEL_BASE_URL or --base-url, e.g. https://gateway.example.com)"
        }
        return nil
    }
}

/// What the client tells an observer (progress display, --verbose). Never carries the key.
public enum ClientEvent: Sendable {
    case exchange(method: String, path: String, status: Int?, seconds: Double, note: String?)
    case retrying(method: String, path: String, reason: String, delay: Double, attempt: Int)
}
