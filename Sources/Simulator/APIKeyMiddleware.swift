import Hummingbird

/// The gateway's key check, when the simulator is given a key: a request without
/// `Authorization: Bearer <key>` is answered 401 before any fault or route sees it (quoting
/// what arrived, when the faults ask for a gateway that echoes it).
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = SimulatorContext

    let requiredKey: String?
    let state: SimulatorState
    let replies: GatewayReplies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let requiredKey, request.headers[.authorization] != "Bearer \(requiredKey)" else {
            return try await next(request, context)
        }
        let echo = await state.faults.echoAuthorization ? " (received Authorization: \(request.headers[.authorization] ?? "nothing"))" : ""
        return replies.error(.unauthorized, "invalid or missing API key" + echo, type: "authentication_error")
    }
}
