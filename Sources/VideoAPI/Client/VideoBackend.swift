import Foundation
import Support

/// What Workflow asks of a video-generation service: submit a request, follow its task,
/// download its video, and say where that video can be fetched. Routes and wire shapes stay
/// behind it, so a second service plugs in by conforming, with Workflow unchanged.
/// `VideoClient` is the OpenAI-style gateway's.
public protocol VideoBackend: Sendable {
    /// Where it sends (the journal keys requests by its base URL) and its time limits.
    var configuration: ClientConfiguration { get }

    /// POSTs the request; `idempotencyKey` lets a gateway that honours it replay a repeat,
    /// `repeatable` says it is known to. `deadline` bounds the whole submission.
    func submit(_ request: GenerationRequest, idempotencyKey: String?, repeatable: Bool, deadline: Date?) async throws(VideoAPIError) -> VideoClient.Submission

    /// The body `submit` sends for `request`, with each media input as `media` writes it
    /// (`submit` inlines files; the journal records them by content hash).
    func wireBody(_ request: GenerationRequest, media: (MediaInput) throws -> String) rethrows -> JSONValue

    /// One reading of the task, and how long the service asks to wait before the next.
    func poll(_ taskID: String, deadline: Date?) async throws(VideoAPIError) -> (TaskSnapshot, hint: Double?)

    /// Polls until the task has succeeded; `onUpdate` sees every reading.
    func waitForResult(_ taskID: String, deadline: Date?, onUpdate: @Sendable (TaskSnapshot) async -> Void) async throws(VideoAPIError) -> TaskSnapshot

    /// Streams the task's video into `path`, from `resultURL` if it still serves it.
    func download(_ taskID: String, resultURL: String?, to path: String, deadline: Date?) async throws(VideoAPIError) -> VideoClient.DownloadedFile

    /// Where the finished task's video can be fetched when no result URL came with it.
    func contentURL(of taskID: String) -> String
}

extension VideoClient: VideoBackend {}
