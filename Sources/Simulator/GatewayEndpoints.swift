import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Support
import VideoAPI

/// What each gateway route answers: submit, poll and fetch, in the configured dialect.
struct GatewayEndpoints: Sendable {
    static let failureReason = "simulated failure: the prompt was refused by a content filter"
    private let openAI = ResponseShapes.Style.openAI
    private let wrapped = ResponseShapes.Style.wrapped
    let configuration: SimulatorConfiguration
    let state: SimulatorState
    /// Videos drawn at once, at most (one ffmpeg per core).
    let drawing = ConcurrencyLimiter(limit: 2)
    var replies: GatewayReplies { GatewayReplies(dialect: configuration.dialect) }

    func submit(_ request: Request, _ context: SimulatorContext) async throws -> Response {
        let bytes = try await request.body.collect(upTo: context.maxUploadSize)
        let faults = await state.faults
        if let body = faults.rejectionBody {
            await state.reject()
            return GatewayReplies.rejection(body, gzipped: faults.gzipRejections)
        }
        guard let json = try? JSONValue.parse(Data(buffer: bytes)), let fields = json.objectFields else {
            await state.reject()
            return replies.error(.badRequest, "the body is not a JSON object", type: "invalid_request_error")
        }
        let parsed: RequestParser.Parsed
        do {
            parsed = try RequestParser(caller: "request", expectedMode: nil, source: .wire).parse(fields)
        } catch {
            await state.reject()
            return replies.error(.badRequest, error.problems.joined(separator: "; "), type: "invalid_request_error")
        }
        let idempotencyKey = request.headers[HTTPField.Name("Idempotency-Key")!]
        let id = await state.submit(parsed.request, body: json, idempotencyKey: idempotencyKey)
        let delay = await state.faults.submitDelay
        if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000)) }
        var response: Response
        switch configuration.dialect {
        case .openai:
            response = GatewayReplies.json(.ok, .object([
                (openAI.taskID, .string(id)), ("object", "video"), (openAI.status, .string(ResponseShapes.word(for: .queued, wrapped: false))), (openAI.progress, .int(0)),
                ("model", .string(parsed.request.model)), ("created_at", .int(Int64(Date().timeIntervalSince1970))),
            ]))
        case .wrapped:
            response = GatewayReplies.json(.ok, .object([("code", "success"), ("message", ""),
                                               (wrapped.envelope!, .object([(wrapped.taskID, .string(id)), (wrapped.status, .string(ResponseShapes.word(for: .queued, wrapped: true)))]))]))
        }
        if configuration.honorsIdempotencyKeys, let idempotencyKey {
            response.headers[HTTPField.Name("Idempotency-Key")!] = idempotencyKey
        }
        if await state.roll(await state.faults.dropAfterSubmit) {
            try? await context.channel.close()
            throw FaultMiddleware.Dropped()
        }
        return response
    }

    func poll(_ request: Request, _ context: SimulatorContext, route: SimulatorConfiguration.PollPaths) async throws -> Response {
        if configuration.pollPaths != .both && configuration.pollPaths != route {
            return replies.error(.notFound, "no such route", type: "invalid_request_error")
        }
        let id = Self.taskID(context)
        guard let (task, status, progress) = await state.state(of: id) else {
            return replies.error(.notFound, "no task \(id)", type: "invalid_request_error")
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
            response = GatewayReplies.json(.ok, .object(fields))
        case .wrapped:
            let word = status.isFinished ? ResponseShapes.word(for: status, wrapped: true) : faults.statusWord ?? ResponseShapes.word(for: status, wrapped: true)
            var data: [(String, JSONValue)] = [(wrapped.taskID, .string(id)), (wrapped.status, .string(word)), (wrapped.progress, .string("\(progress)%"))]
            if status == .succeeded { data.append((wrapped.resultURL[0], .string(resultURL))) }
            if status == .failed { data.append((wrapped.failureReason[0], .string(failureReason))) }
            response = GatewayReplies.json(.ok, .object([("code", "success"), ("message", ""), ("data", .object(data))]))
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
            return replies.error(.notFound, "no task \(id)", type: "invalid_request_error")
        }
        guard status == .succeeded else {
            return replies.error(.notFound, "task \(id) has no video (it is \(status))", type: "invalid_request_error")
        }
        if viaResultURL && task.resultMissing {
            return replies.error(.notFound, "this result URL has expired (simulated)", type: "invalid_request_error")
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
}
