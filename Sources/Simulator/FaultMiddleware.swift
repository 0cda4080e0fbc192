import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Support
import VideoAPI

extension Handlers {
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
