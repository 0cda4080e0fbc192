import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Support
import VideoAPI

/// The gateway's replies in the configured dialect: errors as OpenAI's `{"error": {…}}` or
/// the wrapped `{"code", "message", "data"}`, JSON bodies, and a proxy's raw 400.
struct GatewayReplies: Sendable {
    let dialect: SimulatorConfiguration.Dialect

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
        switch dialect {
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
