import AsyncHTTPClient
import Crypto
import Foundation
import Synchronization
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// The one HTTP client for the API: submit, poll, download. Every exchange has a timeout,
/// transient failures are retried by `RetryPolicy`, and a submission that may have reached
/// the server is never sent twice.
public final class VideoClient: Sendable {
    public let configuration: ClientConfiguration
    private let http: HTTPClient
    /// Which poll path each gateway answers, learned on its first poll.
    private let routes = Mutex<[String: PollRoute]>([:])
    private let gate = RateGate()
    /// HTTP requests in flight at once. Past it, requests wait here as cheap continuations
    /// rather than as queued requests inside the connection pool.
    private let requests = ConcurrencyLimiter(limit: ClientConfiguration.maxConnectionsPerHost * 2)
    private let observer: (@Sendable (ClientEvent) -> Void)?

    public init(_ configuration: ClientConfiguration, observer: (@Sendable (ClientEvent) -> Void)? = nil) {
        self.configuration = configuration
        self.observer = observer
        var http = HTTPClient.Configuration()
        http.timeout = .init(connect: .milliseconds(Int64(configuration.connectTimeout * 1000)),
                             read: .milliseconds(Int64(configuration.requestTimeout * 1000)))
        http.connectionPool = .init(idleTimeout: .seconds(60),
                                    concurrentHTTP1ConnectionsPerHostSoftLimit: min(max(8, configuration.connectionsPerHost), ClientConfiguration.maxConnectionsPerHost))
        // Redirects are followed by hand so the key never travels to another host.
        http.redirectConfiguration = .disallow
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: Submit

    /// What a submission came back with.
    public struct Submission: Sendable {
        /// The new task; its id is always set.
        public var task: TaskSnapshot
        /// The gateway echoed our `Idempotency-Key`: it replays a repeated submission
        /// instead of creating (and billing) a second task.
        public var gatewayHonorsIdempotencyKeys: Bool
    }

    /// POSTs the request. `idempotencyKey` is sent as `Idempotency-Key`; `repeatable` says the
    /// gateway is known to honour it, so a POST whose outcome is unknown may be sent again.
    /// `deadline` bounds the whole submission, retries included (the generation's --timeout).
    public func submit(_ request: GenerationRequest, idempotencyKey: String? = nil, repeatable: Bool = false,
                       deadline: Date? = nil) async throws(VideoAPIError) -> Submission {
        let body: String
        do {
            body = try request.body(media: { try $0.wireString() }).encoded()
        } catch {
            throw VideoAPIError(.invalidRequest, (error as? RequestError)?.description ?? "\(error)")
        }
        let headers = idempotencyKey.map { [("Idempotency-Key", $0)] } ?? []
        let safeToRepeat = repeatable && idempotencyKey != nil
        // A garbled reply to a repeatable POST is asked again: the gateway replays the task.
        let reply = try await exchange(.POST, url: url("/v1/video/generations"), body: body, idempotent: safeToRepeat,
                                       parseJSON: safeToRepeat, headers: headers, deadline: deadline)
        guard (200..<300).contains(reply.status) else { throw failure(of: reply, doing: "submitting") }
        guard let json = reply.json else {
            throw VideoAPIError(.apiError, "the gateway accepted the submission (\(reply.status)) but its reply is not JSON, so the task id is unknown; the task may exist and be billed (\(reply.preview))",
                                httpStatus: reply.status, submissionOutcomeUnknown: true)
        }
        let snapshot = TaskSnapshot(decoding: json)
        guard let id = snapshot.id else {
            throw VideoAPIError(.apiError, "the gateway accepted the submission but its reply has no task id (looked for \(ResponseShapes.taskIDKeys.joined(separator: ", "))): \(reply.preview)",
                                httpStatus: reply.status, submissionOutcomeUnknown: true)
        }
        if snapshot.status == TaskStatus.failed {
            throw VideoAPIError(.taskFailed, "task \(id) failed at once: \(snapshot.failureReason ?? "no reason given")", taskID: id)
        }
        let echoed = idempotencyKey != nil && reply.headers.first(name: "idempotency-key") == idempotencyKey
        return Submission(task: snapshot, gatewayHonorsIdempotencyKeys: echoed)
    }

    // MARK: Poll

    /// One reading of the task, and the server's hint (seconds) for when to ask again.
    public func poll(_ taskID: String, deadline: Date? = nil) async throws(VideoAPIError) -> (TaskSnapshot, hint: Double?) {
        let escaped = taskID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? taskID
        let remembered = routes.withLock { $0[configuration.baseURL] }
        var candidates = PollRoute.allCases
        if let remembered { candidates = [remembered] }
        var lastReply: Reply?
        for route in candidates {
            let reply = try await exchange(.GET, url: url(route.path(for: escaped)), body: nil, idempotent: true, parseJSON: true, deadline: deadline)
            if (reply.status == 404 || reply.status == 405) && remembered == nil {
                lastReply = reply
                continue
            }
            guard (200..<300).contains(reply.status) else { throw failure(of: reply, doing: "polling task \(taskID)", taskID: taskID) }
            if remembered == nil { routes.withLock { $0[configuration.baseURL] = route } }
            guard let json = reply.json else {
                throw VideoAPIError(.apiError, "the reply about task \(taskID) is not JSON: \(reply.preview)", taskID: taskID)
            }
            var snapshot = TaskSnapshot(decoding: json)
            snapshot.id = snapshot.id ?? taskID
            return (snapshot, reply.pollHint)
        }
        throw failure(of: lastReply!, doing: "polling task \(taskID) (tried \(PollRoute.allCases.map { $0.path(for: escaped) }.joined(separator: " and ")))", taskID: taskID)
    }

    /// Polls until the task has succeeded; raises `task_failed` or `timeout` otherwise.
    /// `deadline` (default: `taskTimeout` from now) bounds every poll, slow replies included.
    /// `onUpdate` sees every reading (for progress and warnings).
    public func waitForResult(_ taskID: String, deadline: Date? = nil,
                              onUpdate: @Sendable (TaskSnapshot) async -> Void = { _ in }) async throws(VideoAPIError) -> TaskSnapshot {
        let start = Date()
        let deadline = deadline ?? start.addingTimeInterval(configuration.taskTimeout)
        var polls = 0
        while true {
            let (snapshot, hint): (TaskSnapshot, Double?)
            do {
                (snapshot, hint) = try await poll(taskID, deadline: deadline)
            } catch where error.code == .timeout && deadline.timeIntervalSinceNow < 1 {
                throw VideoAPIError(.timeout, "task \(taskID) did not finish within --timeout (\(Self.seconds(configuration.taskTimeout))): the gateway had not answered the last poll by then (\(error.message)). It may still finish on the gateway: raise --timeout, or check it later with `reel task \(taskID)`", taskID: taskID)
            }
            polls += 1
            await onUpdate(snapshot)
            switch snapshot.settledStatus {
            case .succeeded:
                return snapshot
            case .failed:
                throw VideoAPIError(.taskFailed, "task \(taskID) failed: \(snapshot.failureReason ?? "no reason given")", taskID: taskID)
            default:
                break
            }
            let elapsed = Date().timeIntervalSince(start)
            let wait = configuration.poll.interval(afterPoll: polls - 1, elapsed: elapsed, serverHint: hint)
            if Date().addingTimeInterval(wait) > deadline {
                throw VideoAPIError(.timeout, "task \(taskID) did not finish within --timeout (\(Self.seconds(configuration.taskTimeout))); it was still \(snapshot.status?.description ?? "unfinished") after \(Self.seconds(elapsed)) and the next poll would come after the limit. It may still finish on the gateway: raise --timeout, or check it later with `reel task \(taskID)`", taskID: taskID)
            }
            do {
                try await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000))
            } catch {
                throw VideoAPIError(.cancelled, "stopped waiting for task \(taskID)", taskID: taskID)
            }
        }
    }

    /// "8 s", "1.5 s".
    static func seconds(_ value: Double) -> String {
        value == value.rounded() || value >= 10 ? "\(Int(value.rounded())) s" : "\((value * 10).rounded() / 10) s"
    }

    // MARK: Download

    /// A video on disk: its size and SHA-256 (hex), computed while it streamed in.
    public struct DownloadedFile: Sendable, Equatable {
        public var bytes: Int64
        public var sha256: String
    }

    /// Streams the task's video into `path`: written to a temporary file beside it and
    /// renamed into place only when complete, so a failed download leaves nothing behind.
    @discardableResult
    public func download(_ taskID: String, resultURL: String?, to path: String, deadline: Date? = nil) async throws(VideoAPIError) -> DownloadedFile {
        let deadline = deadline ?? Date().addingTimeInterval(configuration.taskTimeout)
        let contentURL = url("/v1/videos/\(taskID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? taskID)/content")
        var sources = [contentURL]
        if let resultURL {
            let absolute = resultURL.hasPrefix("/") ? configuration.baseURL + resultURL : resultURL
            if absolute != contentURL { sources.insert(absolute, at: 0) }
        }
        var lastError: VideoAPIError?
        for source in sources {
            do {
                return try await downloadWithRetries(from: source, to: path, taskID: taskID, deadline: deadline)
            } catch let failure as DownloadFailure {
                lastError = failure.error
                // An expired or missing result URL, or one that answers with a web page instead
                // of the video: fall back to the content endpoint.
                guard failure.tryAnotherSource else { throw failure.error }
            } catch is CancellationError {
                throw VideoAPIError(.cancelled, "downloading task \(taskID): cancelled", taskID: taskID)
            } catch {
                throw (error as? VideoAPIError) ?? VideoAPIError(.network, "downloading task \(taskID): \(error)", taskID: taskID)
            }
        }
        throw lastError!
    }

    private func downloadWithRetries(from source: String, to path: String, taskID: String, deadline: Date) async throws -> DownloadedFile {
        var attempt = 1
        while true {
            do {
                guard deadline.timeIntervalSinceNow > 0 else { throw pastDeadline("downloading task \(taskID)", taskID: taskID) }
                try await requests.acquire()
                defer { requests.release() }
                // A child task (as in exchange()), bounded by the deadline: a stalled
                // download ends there instead of waiting for the idle timeout.
                return try await TimeBound.run(until: deadline) {
                    try await self.downloadOnce(from: source, to: path, taskID: taskID)
                }
            } catch is TimeBound.Exceeded {
                throw pastDeadline("downloading task \(taskID)", taskID: taskID)
            } catch let failure as DownloadFailure {
                guard !failure.tryAnotherSource, let delay = configuration.retry.delay(after: failure.retry, attempt: attempt, idempotent: true),
                    Date().addingTimeInterval(delay) < deadline
                else { throw failure }
                observer?(.retrying(method: "GET", path: Self.displayPath(source), reason: failure.error.message, delay: delay, attempt: attempt))
                attempt += 1
                try await sleep(delay, taskID: taskID)
            }
        }
    }

    /// A download attempt that failed: whether to retry it, or to try the next source.
    private struct DownloadFailure: Error {
        let error: VideoAPIError
        let retry: RetryPolicy.Failure
        var tryAnotherSource = false
    }

    /// The error for work cut off by the generation's --timeout.
    private func pastDeadline(_ what: String, taskID: String?) -> VideoAPIError {
        VideoAPIError(.timeout, "\(what): stopped at the --timeout limit (\(Self.seconds(configuration.taskTimeout)) per generation); raise --timeout if the gateway is just slow", taskID: taskID)
    }

    private func downloadOnce(from source: String, to path: String, taskID: String) async throws -> DownloadedFile {
        let target = URL(fileURLWithPath: path)
        let directory = target.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw VideoAPIError(.disk, "cannot create the folder \(directory.path): \(error.localizedDescription)", taskID: taskID)
        }
        let temporary = AtomicFile.temporaryURL(beside: target)
        let file = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard file >= 0 else {
            throw VideoAPIError(.disk, "cannot write the video for task \(taskID) in \(directory.path): \(String(cString: strerror(errno)))", taskID: taskID)
        }
        var keep = false
        var closed = false
        defer {
            if !closed { close(file) }
            if !keep { unlink(temporary.path) }
        }

        let started = Date()
        var location = source
        var response: HTTPClientResponse?
        for _ in 0..<6 {
            var request = HTTPClientRequest(url: location)
            authorize(&request, for: location)
            let reply: HTTPClientResponse
            do {
                reply = try await http.execute(request, timeout: .milliseconds(Int64(configuration.requestTimeout * 1000)))
            } catch {
                throw DownloadFailure(error: VideoAPIError(.network, "downloading task \(taskID): \(Self.describe(error))", taskID: taskID),
                                      retry: Self.classify(error))
            }
            if [301, 302, 303, 307, 308].contains(Int(reply.status.code)), let next = reply.headers.first(name: "location") {
                location = next.hasPrefix("/") ? Self.origin(of: location) + next : next
                continue
            }
            response = reply
            break
        }
        guard let response else {
            throw VideoAPIError(.network, "downloading task \(taskID): too many redirects", taskID: taskID)
        }
        let status = Int(response.status.code)
        observer?(.exchange(method: "GET", path: Self.displayPath(location), status: status, seconds: Date().timeIntervalSince(started), note: "download"))
        guard status == 200 else {
            let body = (try? await response.body.collect(upTo: 64 << 10)).map { Redaction.redact(String(buffer: $0)) } ?? ""
            let error = VideoAPIError(status == 404 ? .apiError : .network,
                                      "downloading task \(taskID): the server answered \(status)\(body.isEmpty ? "" : " (\(body.prefix(200)))")",
                                      taskID: taskID, httpStatus: status)
            throw DownloadFailure(error: error, retry: .status(status, retryAfter: RetryPolicy.retryAfterSeconds(response.headers.first(name: "retry-after"))),
                                  tryAnotherSource: [403, 404, 410].contains(status))
        }
        let where_ = Self.displayPath(location)
        if let problem = MediaSignature.problem(contentType: response.headers.first(name: "content-type")) {
            let body = (try? await response.body.collect(upTo: 4 << 10)).map { Redaction.redact(String(buffer: $0)) } ?? ""
            throw DownloadFailure(error: VideoAPIError(.apiError, "the result of task \(taskID) at \(where_) is not a video: \(problem) (\(body.prefix(120).replacingOccurrences(of: "\n", with: " ")))", taskID: taskID),
                                  retry: .status(status, retryAfter: nil), tryAnotherSource: true)
        }
        let expected = response.headers.first(name: "content-length").flatMap(Int64.init)
        if let expected, expected > configuration.maxDownloadBytes {
            throw VideoAPIError(.apiError, "task \(taskID)'s video is \(expected >> 20) MiB, past the \(configuration.maxDownloadBytes >> 20) MiB limit", taskID: taskID)
        }
        var written: Int64 = 0
        var hasher = SHA256()
        var prefix: [UInt8] = []
        do {
            for try await chunk in response.body {
                written += Int64(chunk.readableBytes)
                if written > configuration.maxDownloadBytes {
                    throw VideoAPIError(.apiError, "task \(taskID)'s video grew past the \(configuration.maxDownloadBytes >> 20) MiB limit", taskID: taskID)
                }
                if prefix.count < MediaSignature.prefixLength {
                    prefix += chunk.readableBytesView.prefix(MediaSignature.prefixLength - prefix.count)
                    if prefix.count == MediaSignature.prefixLength && !MediaSignature.looksLikeVideo(prefix) { break }
                }
                try chunk.withUnsafeReadableBytes { bytes in
                    hasher.update(bufferPointer: bytes)
                    try Self.writeAll(file, bytes, to: path, taskID: taskID)
                }
            }
        } catch let error as VideoAPIError {
            throw error
        } catch {
            let wrapped = VideoAPIError(.network, "downloading task \(taskID) broke off after \(written) bytes: \(Self.describe(error))", taskID: taskID)
            throw DownloadFailure(error: wrapped, retry: .maybeSent)
        }
        if written > 0 && !MediaSignature.looksLikeVideo(prefix) {
            throw DownloadFailure(error: VideoAPIError(.apiError, "the result of task \(taskID) at \(where_) is not a video: it starts \(MediaSignature.glimpse(prefix)), not like an MP4 or WebM file", taskID: taskID),
                                  retry: .status(status, retryAfter: nil), tryAnotherSource: true)
        }
        if let expected, expected != written {
            throw DownloadFailure(error: VideoAPIError(.network, "downloading task \(taskID): got \(written) of \(expected) bytes", taskID: taskID),
                                  retry: .maybeSent)
        }
        if written == 0 {
            throw DownloadFailure(error: VideoAPIError(.network, "downloading task \(taskID): the video is empty", taskID: taskID), retry: .maybeSent)
        }
        // No fsync: a killed process loses nothing in the page cache, and after a power
        // cut the journal's SHA-256 check at reuse catches a damaged file and fetches it again.
        closed = true
        if close(file) != 0 {
            throw VideoAPIError(.disk, "cannot finish writing \(path): \(String(cString: strerror(errno)))", taskID: taskID)
        }
        do {
            try AtomicFile.move(temporary, over: target)
        } catch {
            throw VideoAPIError(.disk, "cannot move the downloaded video into \(path): \(error.localizedDescription)", taskID: taskID)
        }
        keep = true
        return DownloadedFile(bytes: written, sha256: hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    /// write(2) until every byte is out; a full disk or a vanished folder is a `disk` error.
    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, to path: String, taskID: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw VideoAPIError(.disk, "cannot write the video for task \(taskID) to \(path): \(String(cString: strerror(errno)))", taskID: taskID)
            }
            offset += n
        }
    }

    // MARK: One exchange, with retries

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: ByteBuffer
        /// The body parsed once, here, for every use; nil when it is not JSON.
        let json: JSONValue?

        /// A short look at the body for error messages.
        var preview: String {
            let text = String(buffer: body).replacingOccurrences(of: "\n", with: " ")
            return text.isEmpty ? "(empty body)" : String(text.prefix(200))
        }

        /// `openai-poll-after-ms` or `Retry-After`, in seconds.
        var pollHint: Double? {
            if let ms = headers.first(name: "openai-poll-after-ms").flatMap(Double.init) { return ms / 1000 }
            return RetryPolicy.retryAfterSeconds(headers.first(name: "retry-after"))
        }
    }

    private enum Attempt {
        case reply(Reply)
        case failed(RetryPolicy.Failure, reason: String)
    }

    /// One request with its retries. `deadline` (the generation's --timeout) bounds it all:
    /// each attempt, slow bodies included, and every wait between attempts. A submission (POST)
    /// is shielded from cancellation while it is on the wire — its outcome must be learned —
    /// but gives up at once when cancelled while waiting between attempts.
    private func exchange(_ method: HTTPMethod, url: String, body: String?, idempotent: Bool, parseJSON: Bool = false,
                          headers: [(String, String)] = [], deadline: Date? = nil) async throws(VideoAPIError) -> Reply {
        let path = Self.displayPath(url)
        let what = "\(method.rawValue) \(path)"
        var attempt = 1
        while true {
            let reason: String
            let delay: Double
            let paused = await gate.remaining()
            if paused > 0 {
                if let deadline, Date().addingTimeInterval(paused) > deadline {
                    throw waitPastDeadline(paused, what: what, why: "the gateway rate-limited reel", deadline: deadline)
                }
                try await sleep(paused, taskID: nil)
            }
            let bound = min(deadline ?? .distantFuture, Date().addingTimeInterval(configuration.requestTimeout))
            guard bound.timeIntervalSinceNow > 0 else { throw pastDeadline(what, taskID: nil) }
            let outcome: Result<Attempt, VideoAPIError>
            if method != .POST {
                // A child task: its deep HTTP frames get their own stack, freed when it ends,
                // instead of growing the stack of a generation that then sits parked for minutes.
                async let child = attemptResult(method, url: url, path: path, body: body, headers: headers, until: bound)
                outcome = await child
            } else {
                outcome = await Task { await self.attemptResult(method, url: url, path: path, body: body, headers: headers, until: bound) }.value
            }
            switch try outcome.get() {
            case .reply(let reply):
                // A garbled answer to a GET is worth asking again; some statuses say "later".
                let malformed = parseJSON && (200..<300).contains(reply.status) && reply.json == nil
                let retryableStatus = RetryPolicy.retryableStatuses.contains(reply.status) || (idempotent && reply.status >= 500)
                guard malformed || retryableStatus else { return reply }
                let retryAfter = RetryPolicy.retryAfterSeconds(reply.headers.first(name: "retry-after"))
                let failure: RetryPolicy.Failure = malformed ? .maybeSent : .status(reply.status, retryAfter: retryAfter)
                if reply.status == 429 {
                    await gate.pause(for: retryAfter ?? configuration.retry.baseDelay)
                }
                // Out of attempts: the caller turns the last reply into an error.
                guard let next = configuration.retry.delay(after: failure, attempt: attempt, idempotent: idempotent) else { return reply }
                if let deadline, Date().addingTimeInterval(next) > deadline {
                    guard let retryAfter, retryAfter >= next else { return reply }
                    throw waitPastDeadline(retryAfter, what: what, why: "the gateway answered \(reply.status) with Retry-After", deadline: deadline,
                                           status: reply.status)
                }
                reason = malformed ? "the reply is not JSON" : "status \(reply.status)\(retryAfter.map { " with Retry-After \(Self.seconds($0))" } ?? "")"
                delay = next
            case .failed(let failure, let why):
                guard let next = configuration.retry.delay(after: failure, attempt: attempt, idempotent: idempotent),
                    deadline.map({ Date().addingTimeInterval(next) < $0 }) ?? true
                else {
                    if case .maybeSent = failure, !idempotent {
                        throw VideoAPIError(.network, "the connection failed after the submission was sent (\(why)), so it may have been accepted and billed; reel does not send it again blindly. Check the gateway's task list; to send only such submissions again, run the same command with --resubmit-unknown.",
                                            submissionOutcomeUnknown: true)
                    }
                    if case .refused = failure {
                        throw VideoAPIError(.network, "cannot connect to \(Self.origin(of: url)) (\(why)); is the gateway running, and is REEL_BASE_URL (or --base-url) right? Nothing was sent.")
                    }
                    if deadline.map({ $0.timeIntervalSinceNow <= 1 }) ?? false { throw pastDeadline(what, taskID: nil) }
                    let timedOut = why.contains("timed out") || why.contains("timeout")
                    throw VideoAPIError(timedOut ? .timeout : .network, "\(what) failed after \(attempt) attempt\(attempt == 1 ? "" : "s"): \(why)")
                }
                reason = why
                delay = next
            }
            observer?(.retrying(method: method.rawValue, path: path, reason: reason, delay: delay, attempt: attempt))
            attempt += 1
            try await sleep(delay, taskID: nil)
        }
    }

    /// The error for a wait the gateway asks for that would end past the deadline.
    private func waitPastDeadline(_ wait: Double, what: String, why: String, deadline: Date, status: Int? = nil) -> VideoAPIError {
        let left = max(0, deadline.timeIntervalSinceNow)
        return VideoAPIError(status == 429 || status == nil ? .rateLimited : .apiError,
                             "\(what): \(why) and asked to wait \(Self.seconds(wait)), more than the \(Self.seconds(left)) left of --timeout (\(Self.seconds(configuration.taskTimeout))); nothing was created by this request. Try again later, or raise --timeout to wait it out.",
                             httpStatus: status)
    }

    private func attemptResult(_ method: HTTPMethod, url: String, path: String, body: String?,
                               headers: [(String, String)], until bound: Date) async -> Result<Attempt, VideoAPIError> {
        do {
            return .success(try await TimeBound.run(until: bound) {
                try await self.attemptOnce(method, url: url, path: path, body: body, headers: headers, until: bound)
            })
        } catch let error as VideoAPIError {
            return .failure(error)
        } catch is TimeBound.Exceeded {
            observer?(.exchange(method: method.rawValue, path: path, status: nil, seconds: 0, note: "no complete reply in time"))
            return .success(.failed(.maybeSent, reason: "timed out: no complete reply in time"))
        } catch {
            return .failure(VideoAPIError(.cancelled, "\(method.rawValue) \(path): cancelled"))
        }
    }

    private func attemptOnce(_ method: HTTPMethod, url: String, path: String, body: String?, headers: [(String, String)],
                             until bound: Date) async throws(VideoAPIError) -> Attempt {
        var request = HTTPClientRequest(url: url)
        request.method = method
        authorize(&request, for: url)
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        do {
            try await requests.acquire()
        } catch {
            throw VideoAPIError(.cancelled, "\(method.rawValue) \(path): cancelled")
        }
        defer { requests.release() }
        let started = Date()
        do {
            let timeout = max(0.001, bound.timeIntervalSinceNow)
            let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            var bytes = try await response.body.collect(upTo: configuration.maxResponseBytes)
            // A gateway or proxy may quote the request's Authorization header back: take the
            // key out here, before any message, journal row or Lua value is made from the reply.
            let text = String(buffer: bytes)
            if Redaction.needsRedaction(text) { bytes = ByteBuffer(string: Redaction.redact(text)) }
            let reply = Reply(status: Int(response.status.code), headers: response.headers, body: bytes,
                              json: try? JSONValue.parse(bytes))
            observer?(.exchange(method: method.rawValue, path: path, status: reply.status, seconds: Date().timeIntervalSince(started), note: nil))
            return .reply(reply)
        } catch is NIOTooManyBytesError {
            throw VideoAPIError(.apiError, "\(method.rawValue) \(path): the reply is larger than \(configuration.maxResponseBytes >> 20) MiB")
        } catch is CancellationError {
            throw VideoAPIError(.cancelled, "\(method.rawValue) \(path): cancelled")
        } catch {
            if Task.isCancelled { throw VideoAPIError(.cancelled, "\(method.rawValue) \(path): cancelled") }
            let reason = Self.describe(error)
            observer?(.exchange(method: method.rawValue, path: path, status: nil, seconds: Date().timeIntervalSince(started), note: reason))
            return .failed(Self.classify(error), reason: reason)
        }
    }

    private func sleep(_ seconds: Double, taskID: String?) async throws(VideoAPIError) {
        do {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
        } catch {
            throw VideoAPIError(.cancelled, "cancelled", taskID: taskID)
        }
    }

    /// The error a non-2xx reply becomes, with the gateway's own message when it gave one.
    private func failure(of reply: Reply, doing what: String, taskID: String? = nil) -> VideoAPIError {
        let parsed = reply.json.map(APIErrorBody.init(decoding:))
        let detail = parsed?.message ?? reply.preview
        let code: VideoAPIError.Code
        var hint = ""
        switch reply.status {
        case 429: code = .rateLimited; hint = " (still rate limited after retries; lower --concurrency or wait)"
        case 400, 422: code = .invalidRequest
        case 401, 403: code = .apiError; hint = " (check REEL_API_KEY)"
        case 408, 504: code = .timeout
        default: code = .apiError
        }
        return VideoAPIError(code, "\(what): the gateway answered \(reply.status): \(detail)\(hint)", taskID: taskID, httpStatus: reply.status)
    }

    private func url(_ path: String) -> String { configuration.baseURL + path }

    /// The key goes to the gateway's own origin only, never to a CDN or a redirect target.
    private func authorize(_ request: inout HTTPClientRequest, for url: String) {
        guard let key = configuration.apiKey, !key.isEmpty, Self.origin(of: url) == Self.origin(of: configuration.baseURL) else { return }
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
    }

    static func origin(of url: String) -> String {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, let host = parts.host else { return url }
        return "\(scheme.lowercased())://\(host.lowercased())\(parts.port.map { ":\($0)" } ?? "")"
    }

    /// The path of a URL for logs (no query: presigned URLs carry credentials there).
    static func displayPath(_ url: String) -> String {
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
