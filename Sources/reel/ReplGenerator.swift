import Foundation
import LuaRuntime
import Support
import Synchronization
import VideoAPI
import Workflow

/// The REPL's generator, in front of the live one. A generation runs in a task of its own, so
/// Ctrl-C during its wait detaches from it instead of abandoning it: it keeps running on the
/// gateway and in the journal, and typing the same call again adopts it — its video, not a
/// second payment. `tasks()` lists what is in flight.
final class ReplGenerator: VideoGenerator, Sendable {
    struct Take: Sendable {
        let number: Int
        let request: GenerationRequest
        let label: String
        let started: Date
        let task: Task<GeneratedVideo, any Error>
        var detached = false
        var finished = false
    }

    private let inner: any VideoGenerator
    private struct State {
        var takes: [Int: Take] = [:]
        var next = 1
        var detachedSinceLastLook: [String] = []
    }
    private let state = Mutex(State())

    init(_ inner: any VideoGenerator) { self.inner = inner }

    func generate(_ request: GenerationRequest, options: GenerationOptions) async throws -> GeneratedVideo {
        let take: Take = state.withLock { state in
            // The same call, detached from earlier: adopt it.
            if let (number, earlier) = state.takes.first(where: { $0.value.detached && $0.value.request == request && !options.fresh }) {
                state.takes[number]?.detached = false
                return earlier
            }
            let number = state.next
            state.next += 1
            let inner = self.inner
            let task = Task { try await inner.generate(request, options: options) }
            let take = Take(number: number, request: request, label: TakeLabel.make(request, callSite: options.callSite), started: Date(), task: task)
            state.takes[number] = take
            return take
        }
        let outcome = await Self.wait(for: take.task)
        switch outcome {
        case .some(let result):
            state.withLock { _ = $0.takes.removeValue(forKey: take.number) }
            return try result.get()
        case .none:
            // Ctrl-C: stop waiting, leave the generation running.
            state.withLock { state in
                guard state.takes[take.number] != nil else { return }
                state.takes[take.number]?.detached = true
                state.detachedSinceLastLook.append(take.label)
            }
            Task { [weak self] in
                _ = await take.task.result
                self?.state.withLock { $0.takes[take.number]?.finished = true }
            }
            throw CancellationError()
        }
    }

    /// The task's result, or nil if the waiting task is cancelled first.
    static func wait<T: Sendable>(for task: Task<T, any Error>) async -> Result<T, any Error>? {
        let once = OnceResult<T>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>?, Never>) in
                once.set(continuation)
                Task { once.resume(with: await task.result) }
            }
        } onCancel: {
            once.resume(with: nil)
        }
    }

    /// Labels of takes detached since the last call (for the REPL to say so once).
    func takeDetachedNotice() -> [String] {
        state.withLock { state in
            defer { state.detachedSinceLastLook = [] }
            return state.detachedSinceLastLook
        }
    }

    /// `tasks()`: every generation in flight or detached, as Lua tables.
    func inFlight() -> LuaValue {
        let takes = state.withLock { $0.takes.values.sorted { $0.number < $1.number } }
        return .table(LuaTable(array: takes.map { take in
            .table(LuaTable(fields: [
                "label": .string(take.label), "prompt": .string(take.request.prompt), "model": .string(take.request.model),
                "seconds": .integer(Int64(Date().timeIntervalSince(take.started))),
                "state": .string(take.finished ? "finished (type the call again to get it)" : take.detached ? "running, detached" : "running"),
            ]))
        }))
    }

    func save(_ video: GeneratedVideo, to path: String) async throws -> String { try await inner.save(video, to: path) }
    func info(_ video: GeneratedVideo) async throws -> [(String, JSONValue)] { try await inner.info(video) }
    func media(_ step: MediaStep) async throws -> MediaOutput { try await inner.media(step) }
}

/// A continuation resumed once: by the result, or by cancellation, whichever comes first.
private final class OnceResult<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<T, any Error>?, Never>?
        var early: Result<T, any Error>??
        var done = false
    }
    private let state = Mutex(State())

    func set(_ continuation: CheckedContinuation<Result<T, any Error>?, Never>) {
        let early: Result<T, any Error>?? = state.withLock { state in
            if let early = state.early { state.done = true; return .some(early) }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(with value: Result<T, any Error>?) {
        let continuation: CheckedContinuation<Result<T, any Error>?, Never>? = state.withLock { state in
            guard !state.done else { return nil }
            guard let continuation = state.continuation else {
                if state.early == nil { state.early = .some(value) }
                return nil
            }
            state.done = true
            state.continuation = nil
            return continuation
        }
        continuation?.resume(returning: value)
    }
}
