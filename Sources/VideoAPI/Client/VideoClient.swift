import AsyncHTTPClient
import Crypto
import Foundation
import Support
import Synchronization
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// The one HTTP client for the API: submit (`VideoClient+Submit.swift`), poll
/// (`+Poll`), download (`+Download`), each through one exchange with retries (`+Exchange`). Every exchange has a timeout,
/// transient failures are retried by `RetryPolicy`, and a submission that may have reached
/// the server is never sent twice.
public final class VideoClient: Sendable {
    public let configuration: ClientConfiguration
    let http: HTTPClient
    /// Which poll path each gateway answers, learned on its first poll.
    let routes = Mutex<[String: PollRoute]>([:])
    let gate = RateGate()
    /// HTTP requests in flight at once. Past it, requests wait here as cheap continuations
    /// rather than as queued requests inside the connection pool.
    let requests = ConcurrencyLimiter(limit: ClientConfiguration.maxConnectionsPerHost * 2)
    let observer: (@Sendable (ClientEvent) -> Void)?
    /// `scheme://host[:port]` of the base URL, worked out once.
    let gatewayOrigin: String

    public init(_ configuration: ClientConfiguration, observer: (@Sendable (ClientEvent) -> Void)? = nil) {
        self.configuration = configuration
        self.observer = observer
        gatewayOrigin = Self.origin(of: configuration.baseURL)
        var http = HTTPClient.Configuration()
        // Only a connect limit (nothing has been sent while connecting). Waiting for replies is
        // bounded by TimeBound, which can tell a slow gateway from a process that was held up
        // (Ctrl-Z, a paused pipe): AsyncHTTPClient's read timeout, ringing late after such a
        // stall, cut off submissions whose replies were already there.
        http.timeout = .init(connect: .milliseconds(Int64(configuration.connectTimeout * 1000)))
        http.connectionPool = .init(idleTimeout: .seconds(60),
                                    concurrentHTTP1ConnectionsPerHostSoftLimit: min(max(8, configuration.connectionsPerHost), ClientConfiguration.maxConnectionsPerHost))
        // AsyncHTTPClient drops Authorization on a redirect to another origin, so the key
        // never travels to a CDN; a redirected POST keeps its method and body.
        // No tracing spans: reel has no tracer, and the global no-op one still cost each
        // request a span with its attributes (about 3% of a run's CPU).
        http.tracing.tracer = nil
        http.redirectConfiguration = .follow(configuration: .init(max: 5, allowCycles: false,
                                                                  retainHTTPMethodAndBodyOn301: true, retainHTTPMethodAndBodyOn302: true))
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }


    func url(_ path: String) -> String { configuration.baseURL + path }

    /// A task id as one segment of a URL path: as it is when it holds only unreserved
    /// characters (every id seen), else percent-encoded. (Foundation's character sets cost
    /// more than the rest of building the request.)
    static func pathSegment(_ taskID: String) -> String {
        PlainASCII.isPlain(taskID, punctuation: "-._~") ? taskID
            : taskID.addingPercentEncoding(withAllowedCharacters: pathSegmentAllowed) ?? taskID
    }

    private static let pathSegmentAllowed = CharacterSet.urlPathAllowed.subtracting(["/"])

    /// The key goes to the gateway's own origin only, never to a CDN or a redirect target.
    func authorize(_ headers: inout HTTPHeaders, for url: String) {
        guard let key = configuration.apiKey, !key.isEmpty, isGatewayOrigin(url) else { return }
        headers.add(name: "Authorization", value: "Bearer \(key)")
    }

    /// Whether `url` is on the gateway's own origin. The client's own URLs start with the
    /// base URL and need no parsing; a result URL from the gateway is parsed.
    func isGatewayOrigin(_ url: String) -> Bool {
        let base = configuration.baseURL
        if url.hasPrefix(base), url.dropFirst(base.count).first.map({ $0 == "/" || $0 == "?" }) ?? true { return true }
        return Self.origin(of: url) == gatewayOrigin
    }

    static func origin(of url: String) -> String {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, let host = parts.host else { return url }
        return "\(scheme.lowercased())://\(host.lowercased())\(parts.port.map { ":\($0)" } ?? "")"
    }

    /// The path of a URL for logs (no query: presigned URLs carry credentials there).
    static func displayPath(_ url: String) -> String {
        // Every exchange logs one: plain string work for the usual `scheme://host/path?query`.
        let bytes = url.utf8
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes[colon...].starts(with: "://".utf8) {
            let rest = bytes[bytes.index(colon, offsetBy: 3)...]
            let isEnd = { (byte: UInt8) in byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") }
            guard let slash = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || isEnd($0) }), rest[slash] == UInt8(ascii: "/") else { return "/" }
            let end = rest[slash...].firstIndex(where: isEnd) ?? rest.endIndex
            return String(Substring(url.utf8[slash..<end]))
        }
        guard let parts = URLComponents(string: url) else { return url }
        return parts.path.isEmpty ? "/" : parts.path
    }

    /// Whether a failed exchange can have reached the server.
    static func classify(_ error: any Error) -> RetryPolicy.Failure {
        if isRefused(error) { return .refused }
        if error is NIOConnectionError { return .notSent }
        if let http = error as? HTTPClientError {
            switch http {
            case .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
                return .notSent
            default:
                return .maybeSent
            }
        }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED || io.errnoCode == ENETUNREACH || io.errnoCode == EHOSTUNREACH {
            return .notSent
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return .notSent }
        return .maybeSent
    }

    /// Nothing listens at the address (or the network says there is no route to it).
    static func isRefused(_ error: any Error) -> Bool {
        let refusals: Set<Int32> = [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH]
        if let io = error as? IOError { return refusals.contains(io.errnoCode) }
        if let connection = error as? NIOConnectionError {
            return !connection.connectionErrors.isEmpty && connection.connectionErrors.allSatisfy { isRefused($0.error) }
        }
        return false
    }

    static func describe(_ error: any Error) -> String {
        if isRefused(error) { return "connection refused" }
        if let http = error as? HTTPClientError {
            switch http {
            case .readTimeout, .deadlineExceeded: return "timed out waiting for the reply"
            case .connectTimeout: return "connect timeout"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(http)"
            }
        }
        if error is NIOConnectionError { return "could not connect" }
        return "\(error)"
    }
}


/// Which poll path a gateway answers, learned once per base URL.
enum PollRoute: CaseIterable, Sendable {
    case videos, generations

    func path(for id: String) -> String {
        switch self {
        case .videos: "/v1/videos/\(id)"
        case .generations: "/v1/video/generations/\(id)"
        }
    }
}

extension JSONValue {
    static func parse(_ buffer: ByteBuffer) throws -> JSONValue {
        try parse(Data(buffer: buffer))
    }
}

