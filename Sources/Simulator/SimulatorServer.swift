import Foundation
import Logging
import HTTPTypes
import Hummingbird
import NIOCore
import VideoAPI

/// reel's own stand-in for a gateway: submit, poll and fetch over real HTTP on loopback,
/// validating with the same `RequestParser` as the client, in either response dialect, with
/// injectable faults. `reel run` uses it when no gateway is configured; the tests use it for
/// everything.
public struct SimulatorServer: Sendable {
    public let configuration: SimulatorConfiguration
    public let state: SimulatorState

    public init(configuration: SimulatorConfiguration = SimulatorConfiguration()) {
        self.configuration = configuration
        state = SimulatorState(configuration: configuration)
    }

    /// Starts serving on 127.0.0.1 (`configuration.port`, 0 for any free port) and returns
    /// once it accepts connections.
    public func start() async throws -> RunningSimulator {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname("127.0.0.1", port: configuration.port), serverName: "reel-simulator"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Logger(label: "reel.simulator", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let serving = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            serving.cancel()
            _ = try await serving.value
            throw SimulatorError(message: "the simulator could not listen on 127.0.0.1:\(configuration.port)")
        }
        return RunningSimulator(baseURL: "http://127.0.0.1:\(port)", port: port, state: state, serving: serving)
    }

    /// Serves until the task is cancelled (for `reel simulator`).
    public func run(onStart: @escaping @Sendable (String) -> Void) async throws {
        let running = try await start()
        onStart(running.baseURL)
        try await withTaskCancellationHandler {
            _ = try await running.serving.value
        } onCancel: {
            running.serving.cancel()
        }
    }

    func makeRouter() -> Router<SimulatorContext> {
        let router = Router(context: SimulatorContext.self)
        let handlers = Handlers(configuration: configuration, state: state)
        router.post("/v1/video/generations") { request, context in
            try await handlers.faulted(request, context, submission: true) { try await handlers.submit(request, context) }
        }
        router.get("/v1/videos/:id") { request, context in
            try await handlers.faulted(request, context) { try await handlers.poll(request, context, route: .videosOnly) }
        }
        router.get("/v1/video/generations/:id") { request, context in
            try await handlers.faulted(request, context) { try await handlers.poll(request, context, route: .generationsOnly) }
        }
        router.get("/v1/videos/:id/content") { request, context in
            try await handlers.faulted(request, context, json: false) { try await handlers.content(context, viaResultURL: false) }
        }
        router.get("/files/:id") { request, context in
            try await handlers.faulted(request, context, json: false) {
                if await handlers.state.faults.redirectDownloads { return handlers.redirectToCDN(request, context) }
                return try await handlers.content(context, viaResultURL: true)
            }
        }
        // Another origin (a CDN): no key needed, and it notes whether one arrived anyway.
        router.get("/cdn/:id") { request, context in
            await handlers.state.cdnDownload(withAuthorization: request.headers[.authorization] != nil)
            return try await handlers.content(context, viaResultURL: true)
        }
        router.get("/__simulator/polls") { _, _ in
            let log = await handlers.state.pollLog()
            return Handlers.json(.ok, .array(log.map { entry in
                .object([("id", .string(entry.id)), ("polls", .array(entry.pollOffsets.map(JSONValue.double))),
                         ("detected_at", entry.detectedAt.map(JSONValue.double) ?? .null)])
            }))
        }
        router.get("/__simulator/stats") { _, _ in
            let s = await handlers.state.stats
            return Handlers.json(.ok, .object([
                ("submissions", .int(Int64(s.submissions))), ("duplicate_submissions", .int(Int64(s.duplicateSubmissions))),
                ("polls", .int(Int64(s.polls))), ("downloads", .int(Int64(s.downloads))),
                ("open_tasks", .int(Int64(s.openTasks))), ("peak_open_tasks", .int(Int64(s.peakOpenTasks))),
                ("faults_injected", .int(Int64(s.faultsInjected))), ("rejected", .int(Int64(s.rejected))),
                ("dropped_submissions", .int(Int64(s.droppedSubmissions))), ("replayed_submissions", .int(Int64(s.replayedSubmissions))),
                ("cdn_downloads", .int(Int64(s.cdnDownloads))), ("cdn_downloads_with_authorization", .int(Int64(s.cdnDownloadsWithAuthorization))),
            ]))
        }
        return router
    }
}

/// A simulator serving in this process.
public struct RunningSimulator: Sendable {
    public let baseURL: String
    public let port: Int
    public let state: SimulatorState
    let serving: Task<Void, any Error>

    public func stop() async {
        serving.cancel()
        _ = try? await serving.value
    }
}

public struct SimulatorError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The request context keeps the channel, so a fault can drop the connection.
struct SimulatorContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var maxUploadSize: Int { 64 << 20 }
}

struct Handlers: Sendable {
    static let failureReason = "simulated failure: the prompt was refused by a content filter"
    private let openAI = ResponseShapes.Style.openAI
    private let wrapped = ResponseShapes.Style.wrapped
    let configuration: SimulatorConfiguration
    let state: SimulatorState
    /// Videos drawn at once, at most (one ffmpeg per core).
    let drawing = ConcurrencyLimiter(limit: 2)

    // MARK: Faults

    struct Dropped: Error {}

    /// Applies the configured faults, then answers with `body`.
    func faulted(_ request: Request, _ context: SimulatorContext, submission: Bool = false, json: Bool = true,
                 _ body: () async throws -> Response) async throws -> Response {
        let faults = await state.faults
        if let key = configuration.requiredKey, request.headers[.authorization] != "Bearer \(key)" {
            let echo = faults.echoAuthorization ? " (received Authorization: \(request.headers[.authorization] ?? "nothing"))" : ""
            return error(.unauthorized, "invalid or missing API key" + echo, type: "authentication_error")
        }
        if !faults.isEmpty && (!submission || faults.includeSubmissions) {
            if await state.roll(faults.slow) {
                try await Task.sleep(nanoseconds: UInt64(faults.slowSeconds * 1_000_000_000))
            }
            if await state.roll(faults.dropConnection) {
                if submission { await state.droppedSubmission() }
                try? await context.channel.close()
                throw Dropped()
            }
            if await state.roll(faults.rateLimited) {
                var response = error(.tooManyRequests, "rate limited (simulated)", type: "rate_limit_error")
                response.headers[.retryAfter] = String(faults.retryAfterSeconds)
                return response
            }
            if await state.roll(faults.serverError) {
                let status: HTTPResponse.Status = await state.pick([.internalServerError, .badGateway, .serviceUnavailable])
                return error(status, "upstream trouble (simulated)", type: "server_error")
            }
            if json, await state.roll(faults.malformed) {
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"id\": \"sim-garb")))
            }
        }
        var response = try await body()
        if faults.echoAuthorization && response.status.code >= 400 {
            // A proxy that quotes the request in its error page.
            response.headers[.init("X-Echo-Authorization")!] = request.headers[.authorization] ?? ""
            let quoted = "{\"error\":{\"message\":\"request failed; headers were Authorization: \(request.headers[.authorization] ?? "")\",\"type\":\"server_error\"}}"
            response.body = .init(byteBuffer: ByteBuffer(string: quoted))
        }
        if faults.trickleReplies && json && !submission {
            response.body = Self.trickled(response.body)
        }
        return response
    }

    /// The body, one byte a second: a gateway that never stalls long enough for an idle
    /// timeout yet never finishes.
    static func trickled(_ body: ResponseBody) -> ResponseBody {
        ResponseBody { writer in
            var collected = ByteBuffer()
            let collector = CollectingWriter()
            try await body.write(collector)
            collected = collector.buffer
            while let byte = collected.readBytes(length: 1) {
                try await writer.write(ByteBuffer(bytes: byte))
                try await Task.sleep(nanoseconds: 1_000_000_000)
            }
            try await writer.finish(nil)
        }
    }

    // MARK: Endpoints

    func submit(_ request: Request, _ context: SimulatorContext) async throws -> Response {
        let bytes = try await request.body.collect(upTo: context.maxUploadSize)
        let faults = await state.faults
        if let body = faults.rejectionBody {
            await state.reject()
            return Self.rejection(body, gzipped: faults.gzipRejections)
        }
        guard let json = try? JSONValue.parse(Data(buffer: bytes)), let fields = json.objectFields else {
            await state.reject()
            return error(.badRequest, "the body is not a JSON object", type: "invalid_request_error")
        }
        let parsed: RequestParser.Parsed
        do {
            parsed = try RequestParser(caller: "request", expectedMode: nil, source: .wire).parse(fields)
        } catch {
            await state.reject()
            return self.error(.badRequest, error.problems.joined(separator: "; "), type: "invalid_request_error")
        }
        let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!]
        let id = await state.submit(parsed.request, body: json, idempotencyKey: idempotencyKey)
        let delay = await state.faults.submitDelay
        if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000)) }
        var response: Response
        switch configuration.dialect {
        case .openai:
            response = Self.json(.ok, .object([
                (openAI.taskID, .string(id)), ("object", "video"), (openAI.status, .string(ResponseShapes.word(for: .queued, wrapped: false))), (openAI.progress, .int(0)),
                ("model", .string(parsed.request.model)), ("created_at", .int(Int64(Date().timeIntervalSince1970))),
            ]))
        case .wrapped:
            response = Self.json(.ok, .object([("code", "success"), ("message", ""),
                                               (wrapped.envelope!, .object([(wrapped.taskID, .string(id)), (wrapped.status, .string(ResponseShapes.word(for: .queued, wrapped: true)))]))]))
        }
        if configuration.honorsIdempotencyKeys, let idempotencyKey {
            response.headers[HTTPField.Name("Idempotency-Key")!] = idempotencyKey
        }
        if await state.roll(await state.faults.dropAfterSubmit) {
            try? await context.channel.close()
            throw Dropped()
        }
        return response
    }

    func poll(_ request: Request, _ context: SimulatorContext, route: SimulatorConfiguration.PollPaths) async throws -> Response {
        if configuration.pollPaths != .both && configuration.pollPaths != route {
            return error(.notFound, "no such route", type: "invalid_request_error")
        }
        let id = Self.taskID(context)
        guard let (task, status, progress) = await state.state(of: id) else {
            return error(.notFound, "no task \(id)", type: "invalid_request_error")
        }
        if status == .failed { await state.close(id) }
        let host = request.head.authority ?? "127.0.0.1"
        let resultURL = "http://\(host)/files/\(task.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? task.id).mp4"
        let faults = await state.faults
        let failureReason = faults.failureReason ?? Self.failureReason
        var response: Response
        switch configuration.dialect {
        case .openai:
            let word = status.isFinished ? ResponseShapes.word(for: status, wrapped: false) : faults.statusWord ?? ResponseShapes.word(for: status, wrapped: false)
            var fields: [(String, JSONValue)] = [(openAI.taskID, .string(id)), ("object", "video"), (openAI.status, .string(word)),
                                                 ("progress", .int(Int64(progress))), ("model", .string(task.request.model))]
            if status == .succeeded { fields.append((openAI.resultURL[0], .string(resultURL))) }
            if status == .failed {
                // error.message: the first failure path.
                fields.append((openAI.failureReason[0], .object([(openAI.failureReason[1], .string(failureReason)), ("code", "content_policy")])))
            }
            response = Self.json(.ok, .object(fields))
        case .wrapped:
            let word = status.isFinished ? ResponseShapes.word(for: status, wrapped: true) : faults.statusWord ?? ResponseShapes.word(for: status, wrapped: true)
            var data: [(String, JSONValue)] = [(wrapped.taskID, .string(id)), (wrapped.status, .string(word)), (wrapped.progress, .string("\(progress)%"))]
            if status == .succeeded { data.append((wrapped.resultURL[0], .string(resultURL))) }
            if status == .failed { data.append((wrapped.failureReason[0], .string(failureReason))) }
            response = Self.json(.ok, .object([("code", "success"), ("message", ""), ("data", .object(data))]))
        }
        if let ms = configuration.pollAfterMilliseconds {
            response.headers[HTTPField.Name("openai-poll-after-ms")!] = String(ms)
        }
        return response
    }

    /// 302 to the same file on another origin: `localhost` for `127.0.0.1` (same port).
    func redirectToCDN(_ request: Request, _ context: SimulatorContext) -> Response {
        let host = (request.head.authority ?? "127.0.0.1").replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let id = Self.taskID(context)
        return Response(status: .found, headers: [.location: "http://\(host)/cdn/\(id)"])
    }

    func content(_ context: SimulatorContext, viaResultURL: Bool) async throws -> Response {
        var id = Self.taskID(context)
        if viaResultURL, id.hasSuffix(".mp4") { id.removeLast(4) }
        guard let (task, status, _) = await state.peek(id) else {
            return error(.notFound, "no task \(id)", type: "invalid_request_error")
        }
        guard status == .succeeded else {
            return error(.notFound, "task \(id) has no video (it is \(status))", type: "invalid_request_error")
        }
        if viaResultURL && task.resultMissing {
            return error(.notFound, "this result URL has expired (simulated)", type: "invalid_request_error")
        }
        let faults = await state.faults
        if faults.htmlResults {
            return Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<html>Please sign in</html>")))
        }
        _ = await state.fetch(id)
        let video = await footage(for: task)
        if faults.stallDownloads {
            let head = ByteBuffer(data: video.prefix(64))
            return Response(status: .ok, headers: [.contentType: "video/mp4", .contentLength: String(video.count)],
                            body: ResponseBody { writer in
                                try await writer.write(head)
                                try await Task.sleep(nanoseconds: 3_600_000_000_000)
                            })
        }
        return Response(status: .ok, headers: [.contentType: "video/mp4", .contentLength: String(video.count)],
                        body: .init(byteBuffer: ByteBuffer(data: video)))
    }

    /// The task's video: drawn for its request (once), or the built-in sample.
    func footage(for task: SimulatorState.SimulatedTask) async -> Data {
        guard configuration.footage == .drawn, task.created != .distantPast else {
            return SampleVideo.video(for: task.id, size: configuration.resultBytes)
        }
        if let drawn = await state.footage(of: task.id) { return drawn }
        // An extension continues its source: this simulator's own task, or a video sent inline.
        var source: Data?
        if task.request.mode == .extend, let input = task.request.video {
            switch input {
            case .dataURI(let uri): source = Self.decoded(uri)
            case .url(let url):
                if let id = url.split(separator: "/").map(String.init).first(where: { $0.hasPrefix("sim-") }).map({ $0.hasSuffix(".mp4") ? String($0.dropLast(4)) : $0 }),
                   let (earlier, status, _) = await state.peek(id), status == .succeeded {
                    source = await footage(for: earlier)
                }
            case .localFile, .recorded: break
            }
        }
        let inline = { (input: MediaInput?) -> Data? in if case .dataURI(let uri)? = input { Self.decoded(uri) } else { nil } }
        let image = inline(task.request.image), lastImage = inline(task.request.lastImage)
        do { try await drawing.acquire() } catch { return SampleVideo.video(for: task.id, size: configuration.resultBytes) }
        defer { drawing.release() }
        guard let drawn = await SimulatedFootage.render(task.request, source: source, image: image, lastImage: lastImage) else {
            return SampleVideo.video(for: task.id, size: configuration.resultBytes)
        }
        let video = drawn.count < configuration.resultBytes ? SampleVideo.padded(drawn, taskID: task.id, size: configuration.resultBytes) : drawn
        await state.keepFootage(video, of: task.id)
        return video
    }

    /// The bytes of a `data:…;base64,…` URI.
    static func decoded(_ uri: String) -> Data? {
        guard let comma = uri.firstIndex(of: ","), uri[..<comma].hasSuffix(";base64") else { return nil }
        return Data(base64Encoded: String(uri[uri.index(after: comma)...]))
    }

    /// The task id in the path, as the client percent-encoded it (an id may hold any text).
    static func taskID(_ context: SimulatorContext) -> String {
        let raw = context.parameters.get("id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    // MARK: Replies

    /// 400 with `body` as it is (JSON if it parses, else plain text); gzipped when asked,
    /// as a misconfigured proxy sends it to a client that never offered gzip.
    static func rejection(_ body: String, gzipped: Bool) -> Response {
        var headers: HTTPFields = [.contentType: (try? JSONValue.parse(Data(body.utf8))) == nil ? "text/plain" : "application/json"]
        var bytes = Array(body.utf8)
        if gzipped {
            headers[.contentEncoding] = "gzip"
            bytes = Gzip.stored(bytes)
        }
        return Response(status: .badRequest, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func error(_ status: HTTPResponse.Status, _ message: String, type: String) -> Response {
        let code = Self.errorCode(type)
        switch configuration.dialect {
        case .openai:
            return Self.json(status, .object([("error", .object([("message", .string(message)), ("type", .string(type)), ("code", .string(code))]))]))
        case .wrapped:
            return Self.json(status, .object([("code", .string(code)), ("message", .string(message)), ("data", .null)]))
        }
    }

    static func errorCode(_ type: String) -> String {
        switch type {
        case "invalid_request_error": "invalid_request"
        case "rate_limit_error": "rate_limited"
        case "authentication_error": "invalid_api_key"
        default: "server_error"
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.encoded())))
    }
}

/// Gathers a response body in memory (to re-send it slowly).
final class CollectingWriter: ResponseBodyWriter, @unchecked Sendable {
    var buffer = ByteBuffer()
    func write(_ buffer: ByteBuffer) async throws {
        var copy = buffer
        self.buffer.writeBuffer(&copy)
    }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
