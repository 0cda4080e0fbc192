import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The faults a test (or `reel simulator --fail …`) asks for, applied around a gateway route:
/// before it, a slow answer, a dropped connection, 429, 5xx or a cut-off JSON body; after it,
/// an error reply that quotes the request's key, or a reply trickled one byte a second.
struct FaultMiddleware: RouterMiddleware {
    typealias Context = SimulatorContext

    /// What the route answers, which decides the faults that apply to it.
    enum Exchange: Sendable {
        /// A POST that creates a task: faulted only with `includeSubmissions`.
        case submission
        /// A task's JSON status.
        case reply
        /// A video's bytes: never answered with broken JSON, never trickled.
        case download
    }

    struct Dropped: Error {}

    let exchange: Exchange
    let state: SimulatorState
    let replies: GatewayReplies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let faults = await state.faults
        let submission = exchange == .submission, json = exchange != .download
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
                var response = replies.error(.tooManyRequests, "rate limited (simulated)", type: "rate_limit_error")
                response.headers[.retryAfter] = String(faults.retryAfterSeconds)
                return response
            }
            if await state.roll(faults.serverError) {
                let status: HTTPResponse.Status = await state.pick([.internalServerError, .badGateway, .serviceUnavailable])
                return replies.error(status, "upstream trouble (simulated)", type: "server_error")
            }
            if json, await state.roll(faults.malformed) {
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"id\": \"sim-garb")))
            }
        }
        var response = try await next(request, context)
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
}

/// Gathers a response body in memory (to re-send it slowly). A class: the body consumes the
/// writer it is given, and the bytes are read back after.
final class CollectingWriter: ResponseBodyWriter {
    var buffer = ByteBuffer()
    func write(_ buffer: ByteBuffer) async throws {
        var copy = buffer
        self.buffer.writeBuffer(&copy)
    }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
