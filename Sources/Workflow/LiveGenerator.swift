import Foundation
import VideoAPI

/// Generates for real through a `VideoClient`, with the journal in front of every step:
/// a finished request is reused, an unfinished one is polled again, and a POST whose
/// outcome is unknown is never sent again blindly. Results are downloaded at once (their
/// URLs expire) into the output folder, with at most `concurrency` tasks in flight.
public final class LiveGenerator: VideoGenerator {
    let client: VideoClient
    let journal: Journal
    let runID: Int64
    let limiter: ConcurrencyLimiter
    let outputDirectory: String
    let progress: any ProgressSink
    private let occurrences = OccurrenceCounter()
    private let submissions = SubmissionTracker()
    private let probe: IdempotencyProbe

    public init(client: VideoClient, journal: Journal, runID: Int64, concurrency: Int, outputDirectory: String, progress: any ProgressSink) {
        self.client = client
        self.journal = journal
        self.runID = runID
        limiter = ConcurrencyLimiter(limit: concurrency)
        self.outputDirectory = outputDirectory
        self.progress = progress
        probe = IdempotencyProbe(journal: journal, baseURL: client.configuration.baseURL)
        // Temporary files of a run that was killed (kill -9, power loss) are swept here.
        AtomicFile.sweepAbandoned(in: outputDirectory)
    }

    private var baseURL: String { client.configuration.baseURL }

    /// After Ctrl-C: no new submissions; those already sent still record their task ids.
    public func stopSubmitting() { submissions.stop() }

    /// Waits (at most `timeout` seconds) for POSTs in flight to come back and be journaled.
    public func waitForSubmissionsInFlight(timeout: Double) async { await submissions.drain(timeout: timeout) }

    public func generate(_ request: GenerationRequest, options: GenerationOptions) async throws -> GeneratedVideo {
        let base = try RequestKey.base(baseURL: baseURL, request: request, inputKeys: options.inputKeys)
        let key = RequestKey.occurrence(base, occurrences.next(base))
        return try await limiter.withPermit { try await self.generate(request, key: key, fresh: options.fresh) }
    }

    private func generate(_ request: GenerationRequest, key: String, fresh: Bool) async throws -> GeneratedVideo {
        let task = progress.begin(request)
        do {
            let earlier = fresh ? nil : try await journal.latest(key: key)
            var row: Int64
            var taskID: String
            switch earlier?.state {
            case .downloaded?:
                if let video = try await reuse(earlier!, request: request, key: key) {
                    progress.update(task, .reused(id: video.id, path: video.localPath ?? ""))
                    return video
                }
                fallthrough  // the file is gone or changed: fetch it again
            case .submitted?, .queued?, .running?, .succeeded?:
                row = earlier!.id
                guard let id = earlier!.taskID else {
                    throw VideoAPIError(.apiError, "journal row \(row) is \(earlier!.state.rawValue) but has no task id; run with --fresh to submit anew")
                }
                taskID = id
                try await journal.adopt(row, runID: runID)
                progress.update(task, .resumed(id: taskID))
            case .submitting?, .unknown?:
                guard try await journal.honorsIdempotencyKeys(baseURL) else {
                    throw VideoAPIError(.network, """
                        an earlier run sent this request (journal row \(earlier!.id)) but never learned its task id, so it may \
                        already be billed; reel will not send it again on its own. Run with --fresh (or fresh = true on this call) \
                        to submit it anyway.
                        """)
                }
                // The gateway replays a repeated Idempotency-Key: sending it again is safe.
                row = earlier!.id
                try await journal.adopt(row, runID: runID)
                taskID = try await submit(request, row: row, newRow: false, idempotencyKey: earlier!.idempotencyKey, task: task)
            case .failed?, nil:
                let idempotencyKey = "reel-\(key.prefix(24))-\(UUID().uuidString.prefix(8).lowercased())"
                row = try await journal.recordSubmitting(key: key, idempotencyKey: idempotencyKey, runID: runID, baseURL: baseURL, request: request)
                taskID = try await submit(request, row: row, newRow: true, idempotencyKey: idempotencyKey, task: task)
            }
            return try await finish(request, row: row, taskID: taskID, key: key, task: task)
        } catch let error as VideoAPIError {
            progress.update(task, .failed(error))
            throw error
        } catch {
            let wrapped = (error is CancellationError) ? VideoAPIError(.cancelled, "cancelled")
                : VideoAPIError(.apiError, "the journal failed: \(error)")
            progress.update(task, .failed(wrapped))
            throw wrapped
        }
    }

    /// The POST, shielded from cancellation so that a Ctrl-C never leaves a submission
    /// half-known: it completes and its task id is journaled either way.
    /// `newRow`: the row was written for this call, so if nothing is sent it can say so. A row
    /// adopted from an earlier run keeps its state: it may stand for a billed task.
    private func submit(_ request: GenerationRequest, row: Int64, newRow: Bool, idempotencyKey: String, task: Int) async throws -> String {
        guard submissions.begin() else {
            if newRow { try await journal.recordFailure(row, .failed, error: "not submitted: the run was stopping") }
            throw VideoAPIError(.cancelled, "not submitted: the run is stopping")
        }
        let client = self.client, journal = self.journal, probe = self.probe
        let attempt = Task { () throws -> String in
            let role = await probe.enter()
            do {
                let submission = try await client.submit(request, idempotencyKey: idempotencyKey, repeatable: role == .known)
                let id = submission.task.id!
                try await journal.recordSubmitted(row, taskID: id, gatewayHonorsIdempotencyKeys: submission.gatewayHonorsIdempotencyKeys)
                await probe.leave(role, learned: submission.gatewayHonorsIdempotencyKeys, answered: true)
                return id
            } catch let error as VideoAPIError {
                await probe.leave(role, learned: false, answered: false)
                try? await journal.recordFailure(row, error.submissionOutcomeUnknown ? .unknown : .failed, error: error.message)
                throw error
            }
        }
        defer { submissions.end() }
        let id = try await attempt.value
        progress.update(task, .submitted(id: id))
        return id
    }

    /// Polls to the end, downloads, and journals the file.
    private func finish(_ request: GenerationRequest, row: Int64, taskID: String, key: String, task: Int) async throws -> GeneratedVideo {
        let finished = try await waitForResult(row: row, taskID: taskID, task: task)
        progress.update(task, .downloading)
        let path = (outputDirectory as NSString).appendingPathComponent(ReelLibrary.fileName(forID: taskID))
        let file = try await client.download(taskID, resultURL: finished.resultURL, to: path)
        try await journal.recordDownloaded(row, path: path, sha256: file.sha256, bytes: file.bytes, resultURL: finished.resultURL)
        progress.update(task, .saved(path: path, bytes: file.bytes))
        let url = finished.resultURL ?? "\(baseURL)/v1/videos/\(taskID)/content"
        return GeneratedVideo(id: taskID, url: url, status: "succeeded", request: request, localPath: path, journalKey: key)
    }

    /// Polls until the task finishes, journaling each change of state.
    private func waitForResult(row: Int64, taskID: String, task: Int) async throws(VideoAPIError) -> TaskSnapshot {
        let journal = self.journal, progress = self.progress
        let lastState = StateMemory()
        do {
            return try await client.waitForResult(taskID) { snapshot in
                progress.update(task, .polled(snapshot))
                let state: Journal.State = switch snapshot.status {
                case .queued?: .queued
                case .succeeded?: .succeeded
                case .failed?: .failed
                default: .running
                }
                if lastState.changed(to: state) {
                    try? await journal.recordState(row, state, progress: snapshot.progress, resultURL: snapshot.resultURL)
                }
            }
        } catch {
            if error.code == .taskFailed { try? await journal.recordFailure(row, .failed, error: error.message) }
            throw error
        }
    }

    /// An earlier run's downloaded video, if its file is still there and unchanged.
    private func reuse(_ record: TaskRecord, request: GenerationRequest, key: String) async throws -> GeneratedVideo? {
        guard let path = record.path, let expected = record.sha256, let id = record.taskID,
            FileManager.default.fileExists(atPath: path), (try? RequestKey.fileSHA256(path)) == expected
        else { return nil }
        try await journal.adopt(record.id, runID: runID)
        let url = record.resultURL ?? "\(baseURL)/v1/videos/\(id)/content"
        return GeneratedVideo(id: id, url: url, status: "succeeded", request: request, localPath: path, journalKey: key, reused: true)
    }

    /// Copies the downloaded file to `path` (via a temporary file and a rename, so the
    /// target is never half-written). Saving to where it already is does nothing.
    public func save(_ video: GeneratedVideo, to path: String) async throws -> String {
        guard let source = video.localPath else {
            try await client.download(video.id, resultURL: video.url, to: path)
            return path
        }
        let target = URL(fileURLWithPath: path).standardizedFileURL
        if target.path == URL(fileURLWithPath: source).standardizedFileURL.path { return path }
        let directory = target.deletingLastPathComponent()
        let temporary = AtomicFile.temporaryURL(beside: target)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source, toPath: temporary.path)
            try AtomicFile.move(temporary, over: target)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw VideoAPIError(.network, "cannot save \(video.id) to \(path): \(error.localizedDescription)", taskID: video.id)
        }
        return path
    }

    public func info(_ video: GeneratedVideo) async throws -> [(String, JSONValue)] {
        let (snapshot, _) = try await client.poll(video.id)
        var fields = snapshot.fields(id: video.id)
        if let path = video.localPath { fields.append(("path", .string(path))) }
        return fields
    }
}

/// Remembers the last journaled state, so polls write only on a change.
private final class StateMemory: @unchecked Sendable {
    private let lock = NSLock()
    private var last: Journal.State?
    func changed(to state: Journal.State) -> Bool {
        lock.withLock {
            defer { last = state }
            return last != state
        }
    }
}

/// Until reel knows whether a gateway honours `Idempotency-Key`, its first POST goes alone:
/// a lost reply can then be re-sent safely for every submission after it, and at most one
/// submission is ever at risk on a gateway reel has not met before.
private actor IdempotencyProbe {
    enum Role { case known, probe, unknown }
    private let journal: Journal
    private let baseURL: String
    /// Read from the journal on first use.
    private var known: Bool?
    /// The gateway answered a probe without echoing the key: it does not honour it.
    private var settled = false
    private var probing = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(journal: Journal, baseURL: String) {
        self.journal = journal
        self.baseURL = baseURL
    }

    func enter() async -> Role {
        if known == nil { known = (try? await journal.honorsIdempotencyKeys(baseURL)) ?? false }
        if known == true { return .known }
        if settled { return .unknown }
        if !probing {
            probing = true
            return .probe
        }
        await withCheckedContinuation { waiting.append($0) }
        return known == true ? .known : .unknown
    }

    /// `answered`: the gateway replied to the POST (so its echo, or its silence, is telling).
    func leave(_ role: Role, learned: Bool, answered: Bool) {
        if learned { known = true }
        guard role == .probe else { return }
        if answered && !learned { settled = true }
        probing = false
        let released = waiting
        waiting = []
        for continuation in released { continuation.resume() }
    }
}

/// POSTs in flight, and whether new ones may start.
private final class SubmissionTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight = 0
    private var stopped = false

    func begin() -> Bool {
        lock.withLock {
            guard !stopped else { return false }
            inFlight += 1
            return true
        }
    }

    func end() { lock.withLock { inFlight -= 1 } }
    func stop() { lock.withLock { stopped = true } }

    func drain(timeout: Double) async {
        let deadline = Date().addingTimeInterval(timeout)
        while lock.withLock({ inFlight > 0 }) && Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }
}
