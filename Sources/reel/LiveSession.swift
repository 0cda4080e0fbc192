import Foundation
import Support
import Synchronization
import Simulator
import VideoAPI
import Workflow

/// The live side of `reel run`, set up on the first generation: a script that never
/// generates starts no simulator, opens no journal and pays no start-up cost for them.
final class LiveSession: VideoGenerator, Sendable {
    struct Parts: Sendable {
        let generator: LiveGenerator
        let client: VideoClient
        let simulator: RunningSimulator?
        let journal: Journal
        let runID: Int64
    }

    private struct State {
        var starting: Task<Parts, any Error>?
        var built: Parts?
        var stopped = false
    }

    private let setUp: @Sendable () async throws -> Parts
    private let state = Mutex(State())

    init(setUp: @escaping @Sendable () async throws -> Parts) { self.setUp = setUp }

    /// The parts, if the first generation has set them up.
    var parts: Parts? { state.withLock { $0.built } }

    private func ready() async throws -> Parts {
        let task: Task<Parts, any Error> = try state.withLock { state in
            guard !state.stopped else { throw VideoAPIError(.cancelled, "not submitted: the run is stopping") }
            if let starting = state.starting { return starting }
            let task = Task { [setUp] in try await setUp() }
            state.starting = task
            return task
        }
        let parts = try await task.value
        state.withLock { $0.built = parts }
        return parts
    }

    func generate(_ request: GenerationRequest, options: GenerationOptions) async throws -> GeneratedVideo {
        try await ready().generator.generate(request, options: options)
    }

    func media(_ step: MediaStep) async throws -> MediaOutput {
        try await ready().generator.media(step)
    }

    func save(_ video: GeneratedVideo, to path: String) async throws -> String {
        try await ready().generator.save(video, to: path)
    }

    func info(_ video: GeneratedVideo) async throws -> [(String, JSONValue)] {
        try await ready().generator.info(video)
    }

    /// Ctrl-C: nothing new is submitted from now on.
    func stopSubmitting() {
        // A set-up still waiting (for another program's lock on the journal) stops waiting.
        state.withLock { state in
            state.stopped = true
            if state.built == nil { state.starting?.cancel() }
        }
        parts?.generator.stopSubmitting()
    }

    /// Waits for a set-up in progress (so its resources can be closed).
    func settled() async -> Parts? {
        guard let task = state.withLock({ $0.starting }) else { return nil }
        return try? await task.value
    }
}
