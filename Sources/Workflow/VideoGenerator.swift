import VideoAPI

/// What carries out a validated request. The dry run only records it; the live generator
/// submits it, waits for the task and downloads the result.
public protocol VideoGenerator: Sendable {
    /// Submits `request` and waits until its video exists.
    func generate(_ request: GenerationRequest, fresh: Bool) async throws -> GeneratedVideo
    /// Writes the video to `path` (atomically) and returns the path.
    func save(_ video: GeneratedVideo, to path: String) async throws -> String
    /// The task's current state as the server reports it.
    func info(_ video: GeneratedVideo) async throws -> [(String, JSONValue)]
}
