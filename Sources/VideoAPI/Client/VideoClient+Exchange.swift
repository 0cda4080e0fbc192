import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Support
import Synchronization

/// One request with its retries, bounded by the generation's deadline; the key redacted from replies.
extension VideoClient {
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

    enum Attempt {
        case reply(Reply)
        case failed(RetryPolicy.Failure, reason: String)
    }

    /// One request with its retries. `deadline` (the generation's --timeout) bounds it all:
    /// each attempt, slow bodies included, and every wait between attempts. A submission (POST)
    /// is shielded from cancellation while it is on the wire — its outcome must be learned —
    /// but gives up at once when cancelled while waiting between attempts.
    func exchange(_ method: HTTPMethod, url: String, body: String?, idempotent: Bool, parseJSON: Bool = false,
                  headers: [(String, String)] = [], deadline: Date? = nil) async throws(VideoAPIError) -> Reply {
        var mayHaveBeenSent = false
        do throws(VideoAPIError) {
            return try await exchange(method, url: url, body: body, idempotent: idempotent, parseJSON: parseJSON, headers: headers,
                                      deadline: deadline, mayHaveBeenSent: &mayHaveBeenSent)
        } catch {
            // A POST that may have reached the gateway on an earlier attempt (a repeatable one,
            // retried) and then gave up for any reason — a deadline, Ctrl-C — may have been
            // billed: its outcome is unknown, never plain failed.
            var error = error
            if method == .POST && mayHaveBeenSent { error.submissionOutcomeUnknown = true }
            throw error
        }
    }

    private func exchange(_ method: HTTPMethod, url: String, body: String?, idempotent: Bool, parseJSON: Bool,
                          headers: [(String, String)], deadline: Date?, mayHaveBeenSent: inout Bool) async throws(VideoAPIError) -> Reply {
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
            // A place among the client's requests in flight first, waited for here as one
            // continuation: thousands of generations polling at once queue cheaply, instead of
            // each holding the child tasks below while it waits. Nothing is sent before it.
            do {
                try await requests.acquire()
            } catch {
                throw VideoAPIError(.cancelled, "\(what): cancelled")
            }
            let outcome: Result<Attempt, VideoAPIError>
            do {
                defer { requests.release() }
                // The reply's time limit starts once the request can go.
                let bound = min(deadline ?? .distantFuture, Date().addingTimeInterval(configuration.requestTimeout))
                guard bound.timeIntervalSinceNow > 0 else { throw pastDeadline(what, taskID: nil) }
                // The HTTP work itself runs on a task of its own (TimeBound's), so its deep frames
                // never grow the stack of a generation that then sits parked for minutes.
                if method != .POST {
                    outcome = await attemptResult(method, url: url, path: path, body: body, headers: headers, until: bound)
                } else {
                    // Unstructured: a POST on the wire is not cancelled with its caller.
                    outcome = await Task { await self.attemptResult(method, url: url, path: path, body: body, headers: headers, until: bound) }.value
                }
            }
            switch try outcome.get() {
            case .reply(let reply):
                // A garbled answer to a GET is worth asking again; some statuses say "later".
                let malformed = parseJSON && (200..<300).contains(reply.status) && reply.json == nil
                if malformed { mayHaveBeenSent = true }
                let retryableStatus = RetryPolicy.isRetryable(status: reply.status, idempotent: idempotent)
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
                if case .maybeSent = failure { mayHaveBeenSent = true }
                guard let next = configuration.retry.delay(after: failure, attempt: attempt, idempotent: idempotent),
                    deadline.map({ Date().addingTimeInterval(next) < $0 }) ?? true
                else {
                    if case .maybeSent = failure, !idempotent {
                        throw VideoAPIError(.network, "the connection failed after the submission was sent (\(why)), so it may have been accepted and billed; reel does not send it again blindly. Check the gateway's task list; to send only such submissions again, run the same command with --resubmit-unknown.",
                                            submissionOutcomeUnknown: true)
                    }
                    if case .unsendable = failure {
                        throw VideoAPIError(.apiError, "\(what): the HTTP client refused to send this request (\(why)), so nothing was sent or billed. Look for a stray character (a newline, a control character) in REEL_API_KEY or REEL_BASE_URL.")
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
    func waitPastDeadline(_ wait: Double, what: String, why: String, deadline: Date, status: Int? = nil) -> VideoAPIError {
        let left = max(0, deadline.timeIntervalSinceNow)
        return VideoAPIError(status == 429 || status == nil ? .rateLimited : .apiError,
                             "\(what): \(why) and asked to wait \(Self.seconds(wait)), more than the \(Self.seconds(left)) left of --timeout (\(Self.seconds(configuration.taskTimeout))); nothing was created by this request. Try again later, or raise --timeout to wait it out.",
                             httpStatus: status)
    }

    func attemptResult(_ method: HTTPMethod, url: String, path: String, body: String?,
                               headers: [(String, String)], until bound: Date) async -> Result<Attempt, VideoAPIError> {
        let progress = SendProgress()
        do {
            return .success(try await TimeBound.run(until: bound) {
                try await self.attemptOnce(method, url: url, path: path, body: body, headers: headers, progress: progress)
            })
        } catch let error as VideoAPIError {
            return .failure(error)
        } catch is TimeBound.Exceeded {
            // Still waiting for a connection at the limit: the request never left.
            let reason = progress.headSent ? "timed out: no complete reply in time" : "timed out before the request could be sent"
            observer?(.exchange(method: method.rawValue, path: path, status: nil, seconds: 0, note: reason))
            return .success(.failed(progress.headSent ? .maybeSent : .notSent, reason: reason))
        } catch {
            return .failure(VideoAPIError(.cancelled, "\(method.rawValue) \(path): cancelled"))
        }
    }

    /// One HTTP exchange, with no time limit of its own: the caller's TimeBound keeps it.
    func attemptOnce(_ method: HTTPMethod, url: String, path: String, body: String?,
                     headers: [(String, String)], progress: SendProgress) async throws(VideoAPIError) -> Attempt {
        var head = HTTPHeaders()
        authorize(&head, for: url)
        head.add(name: "Accept", value: "application/json")
        for (name, value) in headers { head.add(name: name, value: value) }
        if body != nil { head.add(name: "Content-Type", value: "application/json") }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: method, headers: head, body: body.map { .byteBuffer(ByteBuffer(string: $0)) })
        } catch {
            throw VideoAPIError(.apiError, "\(method.rawValue) \(path): cannot make a request of '\(url)' (\(error)); nothing was sent")
        }
        let started = Date()
        do {
            // AsyncHTTPClient's future-based API: a JSON reply arrives whole, without the
            // async body stream's machinery (9% of a 1,000-generation run's CPU).
            let accumulator = ResponseAccumulator(request: request, maxBodySize: configuration.maxResponseBytes)
            let task = http.execute(request: request, delegate: SendTracking(accumulator, progress: progress),
                                    eventLoop: .indifferent, deadline: nil, logger: nil)
            progress.handedOver()
            let response = try await withTaskCancellationHandler { try await task.futureResult.get() } onCancel: { task.cancel() }
            var bytes = response.body ?? ByteBuffer()
            // A gateway or proxy may quote the request's Authorization header back: take the
            // key out here, before any message, journal row or Lua value is made from the reply.
            if bytes.withUnsafeReadableBytes(Redaction.needsRedaction) {
                bytes = ByteBuffer(string: Redaction.redact(String(buffer: bytes)))
            }
            let reply = Reply(status: Int(response.status.code), headers: response.headers, body: bytes,
                              json: try? JSONValue.parse(bytes))
            observer?(.exchange(method: method.rawValue, path: path, status: reply.status, seconds: Date().timeIntervalSince(started), note: nil))
            return .reply(reply)
        } catch is ResponseAccumulator.ResponseTooBigError {
            throw VideoAPIError(.apiError, "\(method.rawValue) \(path): the reply is larger than \(configuration.maxResponseBytes >> 20) MiB")
        } catch is CancellationError {
            throw VideoAPIError(.cancelled, "\(method.rawValue) \(path): cancelled")
        } catch {
            if Task.isCancelled { throw VideoAPIError(.cancelled, "\(method.rawValue) \(path): cancelled") }
            let reason = Self.describe(error)
            observer?(.exchange(method: method.rawValue, path: path, status: nil, seconds: Date().timeIntervalSince(started), note: reason))
            return .failed(progress.failure(classifying: error), reason: reason)
        }
    }

    func sleep(_ seconds: Double, taskID: String?) async throws(VideoAPIError) {
        do {
            try await LoopTimer.sleep(seconds: seconds)
        } catch {
            throw VideoAPIError(.cancelled, "cancelled", taskID: taskID)
        }
    }

    /// The error a non-2xx reply becomes, with the gateway's own message when it gave one.
    func failure(of reply: Reply, doing what: String, taskID: String? = nil) -> VideoAPIError {
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
}

/// How far one request got: whether a failed POST may have been billed is decided by where it
/// failed, not by what the error says. Before its head is written to a connection nothing of
/// it has left reel, whatever the error (an invalid header, a connection never made).
final class SendProgress: Sendable {
    private enum Phase: UInt8, AtomicRepresentable {
        /// Inside `HTTPClient.execute`, which builds and checks the request head.
        case building
        /// The client refused the request as it built it: it can never be sent as it is.
        case refusedAsBuilt
        /// Waiting for a connection (or connecting).
        case handedOver
        /// The head was handed to the connection to write: it may have reached the gateway.
        case headSent
    }
    private let phase = Atomic<Phase>(.building)

    /// `HTTPClient.execute` returned: a failure from now on is not a refusal of the request itself.
    func handedOver() { _ = phase.compareExchange(expected: .building, desired: .handedOver, ordering: .acquiringAndReleasing) }
    fileprivate func failedWhileBuilding() { _ = phase.compareExchange(expected: .building, desired: .refusedAsBuilt, ordering: .acquiringAndReleasing) }
    fileprivate func sentHead() { phase.store(.headSent, ordering: .releasing) }

    var headSent: Bool { phase.load(ordering: .acquiring) == .headSent }

    /// What a failed attempt means for retrying and for money.
    func failure(classifying error: any Error) -> RetryPolicy.Failure {
        switch phase.load(ordering: .acquiring) {
        case .building, .refusedAsBuilt: .unsendable
        case .handedOver: VideoClient.isRefused(error) ? .refused : .notSent
        case .headSent: VideoClient.classify(error)
        }
    }
}

/// AsyncHTTPClient's whole-reply delegate, noting in `SendProgress` when the request head goes
/// to the connection (AsyncHTTPClient calls `didSendRequestHead` right after writing it). The
/// note reaches the request's event loop before any failure that follows the write; reel runs
/// one loop (`EventLoopExecutor.install`), so a time limit's cancel is ordered with it too.
private final class SendTracking: HTTPClientResponseDelegate {
    typealias Response = ResponseAccumulator.Response
    private let inner: ResponseAccumulator
    private let progress: SendProgress

    init(_ inner: ResponseAccumulator, progress: SendProgress) {
        self.inner = inner
        self.progress = progress
    }

    func didSendRequestHead(task: HTTPClient.Task<Response>, _ head: HTTPRequestHead) {
        progress.sentHead()
        inner.didSendRequestHead(task: task, head)
    }
    func didSendRequestPart(task: HTTPClient.Task<Response>, _ part: IOData) { inner.didSendRequestPart(task: task, part) }
    func didSendRequest(task: HTTPClient.Task<Response>) { inner.didSendRequest(task: task) }
    func didVisitURL(task: HTTPClient.Task<Response>, _ request: HTTPClient.Request, _ head: HTTPResponseHead) {
        inner.didVisitURL(task: task, request, head)
    }
    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        inner.didReceiveHead(task: task, head)
    }
    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        inner.didReceiveBodyPart(task: task, buffer)
    }
    func didReceiveError(task: HTTPClient.Task<Response>, _ error: any Error) {
        progress.failedWhileBuilding()
        inner.didReceiveError(task: task, error)
    }
    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response { try inner.didFinishRequest(task: task) }
}
