import Foundation
import SafeFiles
import Support
import Synchronization
import VideoAPI

/// Generates for real through a `VideoBackend` (the gateway's `VideoClient`), with the journal in front of every step:
/// a finished request is reused, an unfinished one is polled again, and a POST whose
/// outcome is unknown is never sent again blindly. Results are downloaded at once (their
/// URLs expire) into the output folder, with at most `concurrency` tasks in flight.
public final class LiveGenerator: VideoGenerator {
    let client: any VideoBackend
    let journal: Journal
    let runID: Int64
    let limiter: ConcurrencyLimiter
    let outputDirectory: String
    let progress: any ProgressSink
    private let occurrences = OccurrenceCounter()
    private let order = SubmissionOrder()
    /// Template names given out in this run, so two takes downloading at once never share one.
    let namesInUse = Mutex<Set<String>>([])
    let submissions = SubmissionTracker()
    /// Generations claiming and submitting at once (as many as the client's requests in flight).
    private let settling = ConcurrencyLimiter(limit: ClientConfiguration.maxConnectionsPerHost * 2)
    let probe: IdempotencyProbe

    /// `--resubmit-unknown`: send again the submissions whose outcome is unknown.
    let resubmitUnknown: Bool
    /// The run's cap on seconds submitted.
    let budget: Budget

    /// `gatewayIdentity`: the name the journal keys this gateway by (its base URL unless
    /// given; the built-in simulator has one that outlives its random port).
    public init(client: any VideoBackend, journal: Journal, runID: Int64, concurrency: Int, outputDirectory: String, progress: any ProgressSink,
                resubmitUnknown: Bool = false, gatewayIdentity: String? = nil, budget: Budget = Budget()) {
        self.budget = budget
        identity = gatewayIdentity ?? client.configuration.baseURL
        self.client = client
        self.journal = journal
        self.runID = runID
        limiter = ConcurrencyLimiter(limit: concurrency)
        self.outputDirectory = outputDirectory
        self.progress = progress
        self.resubmitUnknown = resubmitUnknown
        probe = IdempotencyProbe(journal: journal, baseURL: identity)
        // Temporary files of a run that was killed (kill -9, power loss) are swept here.
        AtomicFile.sweepAbandoned(in: outputDirectory)
    }

    /// What the journal knows this gateway as.
    let identity: String

    /// After Ctrl-C: no new submissions, and those waiting out a backoff give up (nothing was
    /// created for them); a POST on the wire still completes and records its task id.
    public func stopSubmitting() { submissions.stop() }

    /// Waits (at most `timeout` seconds) for POSTs in flight to come back and be journaled.
    public func waitForSubmissionsInFlight(timeout: Double) async { await submissions.drain(timeout: timeout) }

    public func generate(_ request: GenerationRequest, options: GenerationOptions) async throws -> GeneratedVideo {
        // In the script's order: the journal's rows, the occurrence numbers of identical calls
        // and the POSTs follow the calls, not the race between their tasks.
        let claimed = await order.waitForTurn(of: options)
        let call = try place(request, options: options, claimed: claimed)
        defer { call.claimed.send() }
        return try await limiter.withPermit { try await self.run(call) }
    }

    /// The call with its journal key, once it is its turn. (A plain function: its temporaries
    /// stay off the async frame a waiting generation keeps.)
    private func place(_ request: GenerationRequest, options: GenerationOptions, claimed: ClaimSignal) throws -> Call {
        do {
            let sha256 = try RequestKey.contentHashes(request)
            let base = RequestKey.base(baseURL: identity, request: request, inputKeys: options.inputKeys, sha256: sha256)
            return Call(request: request, options: options, key: RequestKey.occurrence(base, occurrences.next(base)), sha256: sha256,
                        claimed: claimed)
        } catch {
            claimed.send()
            throw error
        }
    }

    private func run(_ call: Call) async throws -> GeneratedVideo {
        let task = begin(call)
        do {
            switch try await settleInTurn(call, task: task) {
            case .video(let video):
                return video
            case .finish(let row, let taskID, let due):
                let resultURL = try await waitForResult(row: row, taskID: taskID, task: task, deadline: due)
                return try await download(call, row: row, taskID: taskID, resultURL: resultURL, task: task, deadline: due)
            }
        } catch {
            throw failed(task, error)
        }
    }

    /// The call's progress line. (Here and below, `@inline(never)` keeps a plain function's
    /// temporaries on the thread's stack rather than in the async frame of its caller.)
    @inline(never)
    private func begin(_ call: Call) -> Int {
        progress.begin(call.request, callSite: call.options.callSite, sequence: call.options.sequence)
    }

    /// The error a generation ends with, shown in its progress line. (A plain function: its
    /// message building stays off the async frame a waiting generation keeps.)
    @inline(never)
    private func failed(_ task: Int, _ error: any Error) -> VideoAPIError {
        let reported = error as? VideoAPIError ?? ((error is CancellationError) ? VideoAPIError(.cancelled, "cancelled")
            : VideoAPIError(.journal, "the journal failed: \(error) (nothing was sent for this call)"))
        progress.update(task, .failed(reported))
        return reported
    }

    /// Claims and submits, waiting out other runs' generations. Claiming and submitting hold
    /// large values (journal rows, the submission) in a frame of their own (about 10 KiB),
    /// gone before the minutes of polling; and thousands of generations waiting for their
    /// turn to POST wait for `settling` as one continuation each, before that frame exists
    /// (README, Performance). Never inlined: its frame would join the one that waits.
    @inline(never)
    private func settleInTurn(_ call: Call, task: Int) async throws -> Settled {
        var deadline: Date?
        while true {
            let outcome = try await settling.withPermit { [deadline] in
                // A task of its own: a task keeps its stack slabs until it ends, so settle's
                // large frame would otherwise stay allocated for the whole generation.
                try await FreshStack.run { try await self.settle(call, task: task, deadline: deadline) }
            }
            switch outcome {
            case .settled(let settled):
                return settled
            case .waitForOtherRun(let record, let due):
                // Outside `settling`: another run's generation may take minutes.
                deadline = due
                try await waitForOtherRun(record, task: task, deadline: due)
            }
        }
    }

    /// What a claim came to: a video at once (reused), or a task to poll and download.
    /// `deadline`: --timeout, counted from the first claim.
    /// (The video is boxed: the frames that wait hold a pointer, not its bytes.)
    private enum Settled: Sendable {
        indirect case video(GeneratedVideo)
        case finish(row: Int64, taskID: String, deadline: Date)
    }

    /// One claim: settled, or another live run's generation to wait for before claiming again.
    private enum ClaimOutcome: Sendable {
        case settled(Settled)
        indirect case waitForOtherRun(TaskRecord, deadline: Date)
    }

    /// Claims the request in the journal and acts on the claim: reuses a file, resumes a
    /// task, or submits. `deadline`: the one set by an earlier claim of this call, if any.
    private func settle(_ call: Call, task: Int, deadline: Date?) async throws -> ClaimOutcome {
        let request = call.request, key = call.key, options = call.options
        let submission = Journal.NewSubmission(
            key: key, idempotencyKey: "reel-\(key.prefix(24))-\(Self.randomSuffix())", runID: runID,
            baseURL: identity, request: request, sha256: call.sha256, sent: sentBody(call).encoded(), callSite: options.callSite, sequence: options.sequence,
            arguments: options.arguments)
        // A place among the submissions from before the claim: a stop that comes while the
        // claim waits in the journal's queue waits for it and for its row to say what came of
        // it (a new row left `submitting` would read as a POST of unknown outcome).
        guard submissions.begin() else { throw VideoAPIError(.cancelled, "not submitted: the run is stopping") }
        defer { submissions.end() }
        // The next call's claim may go as soon as this one has its place in the journal's
        // queue: claims commit in that order, and side by side.
        let claim = try await journal.claim(submission, fresh: options.fresh, resubmitUnknown: resubmitUnknown, enqueued: call.claimed.send)
        // --timeout bounds the generation's dealings with the gateway from here: the POST,
        // slow replies, retries, the download (not the journal's own bookkeeping).
        let deadline = deadline ?? Date().addingTimeInterval(client.configuration.taskTimeout)
        switch claim {
        case .reuse(let record):
            if let video = try await reuse(record, request: request, key: key) {
                progress.update(task, .reused(id: video.id, path: video.localPath ?? ""))
                return .settled(.video(video))
            }
            // The file is gone or changed: fetch it again (paid for by the run that submitted it).
            try await journal.takeOver(record.id)
            progress.update(task, .resumed(id: record.taskID ?? ""))
            return .settled(.finish(row: record.id, taskID: record.taskID ?? "", deadline: deadline))
        case .resume(let record):
            guard let id = record.taskID else {
                throw VideoAPIError(.journal, "journal row \(record.id) is \(record.state.rawValue) but has no task id; run with --fresh to submit anew")
            }
            progress.update(task, .resumed(id: id))
            return .settled(.finish(row: record.id, taskID: id, deadline: deadline))
        case .submit(let record), .resubmit(let record):
            // A new row can say nothing was sent; a resubmitted one stands for a POST of
            // unknown outcome and goes back to `unknown` if it is not sent again.
            let newRow: Bool = if case .submit = claim { true } else { false }
            do {
                try budget.reserve(request)
            } catch {
                try? await journal.recordFailure(record.id, newRow ? .failed : .unknown,
                                                 error: newRow ? error.message : "not sent again: \(error.message)")
                throw error
            }
            let id: String
            do {
                id = try await submit(request, row: record.id, newRow: newRow, idempotencyKey: record.idempotencyKey, task: task, deadline: deadline)
            } catch let error as VideoAPIError where !error.submissionOutcomeUnknown && error.code != .taskFailed {
                budget.release(request)  // nothing was created
                throw error
            }
            return .settled(.finish(row: record.id, taskID: id, deadline: deadline))
        case .unknown(let record):
            throw Self.unknownOutcome(record)
        case .wait(let record):
            return .waitForOtherRun(record, deadline: deadline)
        }
    }

    /// The body the backend sends for the call, each local or inline input by its content
    /// hash (as the journal records it, and as a Video's `request` shows it).
    func sentBody(_ call: Call) -> JSONValue {
        client.wireBody(call.request) { RequestKey.byContent($0, call.sha256) }
    }

    /// Eight random hex digits, as a UUID's first eight were: from getrandom(2), where
    /// Foundation's UUID opens, reads and closes /dev/urandom for each.
    static func randomSuffix() -> String {
        withUnsafeBytes(of: UInt32.random(in: .min ... .max)) { Hex.string($0) }
    }

    /// The error for a submission whose outcome an earlier run never learned.
    static func unknownOutcome(_ record: TaskRecord) -> VideoAPIError {
        VideoAPIError(.network, """
            an earlier run sent this request (journal row \(record.id)) but never learned its task id, so the gateway may have \
            created and billed it; reel will not send it again on its own. Check the gateway's task list; to send only the \
            requests in this state again, run the same command with --resubmit-unknown.
            """, submissionOutcomeUnknown: true)
    }

    /// Another live run owns this request: follows its row until it is downloaded, or its
    /// owner is gone or gave up; then the call claims it again (and reuses the file, or
    /// takes the request over).
    private func waitForOtherRun(_ record: TaskRecord, task: Int, deadline: Date) async throws {
        progress.update(task, .waiting(pid: record.ownerPID ?? 0))
        while true {
            guard Date() < deadline else {
                throw VideoAPIError(.timeout, "another reel run (pid \(record.ownerPID ?? 0)) is still generating this request after --timeout; it keeps it in the journal, so a later run reuses it", taskID: record.taskID)
            }
            do {
                try await LoopTimer.sleep(seconds: 0.25)
            } catch {
                throw VideoAPIError(.cancelled, "stopped waiting for another run's generation")
            }
            guard let now = try await journal.record(id: record.id) else { return }
            if now.state == .downloaded { return }
            let ownerAlive = now.owner?.isAlive ?? false
            if now.state == .failed || now.state == .unknown || !ownerAlive { return }
        }
    }

    public func media(_ step: MediaStep) async throws -> MediaOutput {
        let started = Date()
        let media = LiveMedia(journal: journal, runID: runID, outputDirectory: outputDirectory,
                              timeLimit: .milliseconds(Int64(client.configuration.taskTimeout * 1000)))
        let output = try await media.run(step)
        progress.made(output, seconds: Date().timeIntervalSince(started))
        return output
    }

    public func info(_ video: GeneratedVideo) async throws -> [(String, JSONValue)] {
        let (snapshot, _) = try await client.poll(video.id, deadline: nil)
        var fields = snapshot.fields(id: video.id)
        if let path = video.localPath { fields.append(("path", .string(path))) }
        return fields
    }
}

/// One generation call's particulars, held once on the heap: the frames that stay allocated
/// under a generation parked for minutes hold a reference, not copies of the request and
/// options (README, Performance).
final class Call: Sendable {
    let request: GenerationRequest
    let options: GenerationOptions
    /// The journal key (the request's, with its occurrence number).
    let key: String
    /// Each local or inline input's SHA-256, hashed once for the key, the journal and the
    /// body recorded as sent (empty, and unallocated, for a call without such inputs).
    let sha256: [MediaInput: String]
    /// Lets the script's next call claim once this one has its place in the journal.
    let claimed: ClaimSignal

    init(request: GenerationRequest, options: GenerationOptions, key: String, sha256: [MediaInput: String], claimed: ClaimSignal) {
        self.request = request
        self.options = options
        self.key = key
        self.sha256 = sha256
        self.claimed = claimed
    }
}
