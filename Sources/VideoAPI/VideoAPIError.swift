import Support
/// Every failure a generation can end in, with the code scripts match on
/// (`err.code == "rate_limited"`), the task id when there is one, and a message that says
/// what happened and what to do.
public struct VideoAPIError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable, CaseIterable {
        case invalidRequest = "invalid_request"
        case apiError = "api_error"
        case rateLimited = "rate_limited"
        case taskFailed = "task_failed"
        case timeout
        case network
        case cancelled
        /// Writing a file failed: a full disk, a read-only or missing folder, a name too long.
        case disk
        /// The journal (`.reel/journal.sqlite`) could not be read or written.
        case journal
        /// Not submitted: it would take the run past its cap (`--max-seconds`, `budget{}`).
        case budget
        /// A media step (last_frame, concat, seams, …) failed, or ffmpeg is not installed.
        case media
    }

    public var code: Code
    public var message: String
    public var taskID: String?
    /// The HTTP status that caused it, if any.
    public var httpStatus: Int?
    /// A submission that may have reached the gateway: a task may exist (and be billed)
    /// whose id reel never learned.
    public var submissionOutcomeUnknown: Bool

    public init(_ code: Code, _ message: String, taskID: String? = nil, httpStatus: Int? = nil, submissionOutcomeUnknown: Bool = false) {
        self.code = code
        // Messages quote gateways, proxies and file systems: never let them carry the key.
        self.message = Redaction.redact(message)
        self.taskID = taskID
        self.httpStatus = httpStatus
        self.submissionOutcomeUnknown = submissionOutcomeUnknown
    }

    public var description: String { message }
}

/// A finished generation: what a `Video` in Lua is made from.
public struct GeneratedVideo: Sendable, Hashable {
    /// What the video is; the raw value is the Lua `status` field.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Generated (or reused from the journal) and downloaded.
        case succeeded
        /// Planned under --dry-run: nothing was sent.
        case dryRun = "dry_run"
        /// The stand-in for a call the check refused, so the script runs on to find every error.
        case invalid
        /// A file made or read on this machine (a media step's result, or a path passed as a clip).
        case local
    }

    public var id: String
    public var url: String?
    public var status: Status
    public var request: GenerationRequest
    /// The body that was sent for it (local and inline media by content hash); nil when
    /// nothing was sent (a plan, a local file).
    public var sent: JSONValue?
    /// Where reel downloaded it (results are fetched at once: their URLs expire).
    public var localPath: String?
    /// The journal's key for the request that made it (so a later step can refer to it).
    public var journalKey: String?
    /// Taken from an earlier run's journal instead of generated now.
    public var reused: Bool

    public init(id: String, url: String?, status: Status, request: GenerationRequest, sent: JSONValue? = nil, localPath: String? = nil,
                journalKey: String? = nil, reused: Bool = false) {
        self.id = id
        self.url = url
        self.status = status
        self.request = request
        self.sent = sent
        self.localPath = localPath
        self.journalKey = journalKey
        self.reused = reused
    }
}
