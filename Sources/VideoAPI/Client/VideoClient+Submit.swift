import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Support

/// Submission: one POST = one paid generation, never sent twice blindly.
extension VideoClient {
    // MARK: Submit

    /// What a submission came back with.
    public struct Submission: Sendable {
        /// The new task; its id is always set.
        public var task: TaskSnapshot
        /// The gateway echoed our `Idempotency-Key`: it replays a repeated submission
        /// instead of creating (and billing) a second task.
        public var gatewayHonorsIdempotencyKeys: Bool
    }

    /// The gateway takes the request's own fields as its body.
    public func wireBody(_ request: GenerationRequest, media: (MediaInput) throws -> String) rethrows -> JSONValue {
        try request.body(media: media)
    }

    /// POSTs the request. `idempotencyKey` is sent as `Idempotency-Key`; `repeatable` says the
    /// gateway is known to honour it, so a POST whose outcome is unknown may be sent again.
    /// `deadline` bounds the whole submission, retries included (the generation's --timeout).
    public func submit(_ request: GenerationRequest, idempotencyKey: String? = nil, repeatable: Bool = false,
                       deadline: Date? = nil) async throws(VideoAPIError) -> Submission {
        let body: String
        do {
            body = try wireBody(request, media: { try $0.wireString() }).encoded()
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
}
