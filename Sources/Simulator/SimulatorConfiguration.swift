/// How the simulator behaves: how long generations take, which response dialect it speaks,
/// and which faults it injects (each a probability per request, drawn from a seeded generator
/// so a failing test can be replayed).
public struct SimulatorConfiguration: Sendable {
    /// The two response dialects gateways use.
    public enum Dialect: String, Sendable, CaseIterable {
        /// `{"id","status":"completed","progress":100,"video_url"}` and `{"error":{…}}`.
        case openai
        /// `{"code":"success","data":{"task_id","status":"SUCCESS","progress":"100%","result_url"}}`.
        case wrapped
    }

    /// Which poll path answers (the other answers 404), to exercise the client's fallback.
    public enum PollPaths: String, Sendable, CaseIterable {
        case both, videosOnly = "videos", generationsOnly = "generations"
    }

    public var port = 0
    public var dialect = Dialect.openai
    public var pollPaths = PollPaths.both
    /// Seconds from submission to a finished video.
    public var generationSeconds = 3.0
    /// The result's size in bytes at least (the MP4 padded with a `free` box).
    public var resultBytes = 4096
    /// What the videos show: drawn for each request by ffmpeg (its prompt, seed, colour and
    /// duration), or one small built-in sample (no ffmpeg needed; for load tests).
    public enum Footage: String, Sendable { case drawn, sample }
    public var footage = Footage.sample
    /// A key the simulator insists on; nil accepts any.
    public var requiredKey: String?
    /// `openai-poll-after-ms` sent with every poll reply; nil sends none.
    public var pollAfterMilliseconds: Int?
    /// Replay a repeated `Idempotency-Key` instead of creating a second task, and echo the
    /// key back (how a client learns the gateway honours it).
    public var honorsIdempotencyKeys = true
    public var faults = Faults()
    public var seed: UInt64 = 1
    /// Answer for tasks an earlier simulator made (`sim-…` ids it has not seen) as finished,
    /// so a re-run on the built-in simulator resumes them as it would on a gateway.
    public var adoptsEarlierTasks = false

    /// The name under which the journal records the built-in simulator, whatever port it got:
    /// re-runs on it then reuse what is done, as on a gateway.
    public static let builtInIdentity = "builtin-simulator:reel"

    public init() {}

    public struct Faults: Sendable, Equatable {
        /// 429 with `Retry-After`.
        public var rateLimited = 0.0
        public var retryAfterSeconds = 1
        /// 500, 502 or 503.
        public var serverError = 0.0
        /// The connection is closed without an answer.
        public var dropConnection = 0.0
        /// A submission creates its task, then the connection is closed before the answer:
        /// the client cannot know the task exists (what `Idempotency-Key` is for).
        public var dropAfterSubmit = 0.0
        /// The answer comes `slowSeconds` late.
        public var slow = 0.0
        public var slowSeconds = 2.0
        /// 200 with a body that is not JSON.
        public var malformed = 0.0
        /// A task ends `failed` with a reason.
        public var taskFailure = 0.0
        /// The task's result URL answers 404 (the content endpoint still works).
        public var missingResult = 0.0
        /// Whether request faults hit submissions too (false: polls and downloads only).
        public var includeSubmissions = true

        // Hostile gateways, each always on when set (not dice): what reel must survive.
        /// Error replies quote the request's Authorization header (a proxy that echoes headers).
        public var echoAuthorization = false
        /// Poll replies (not submissions) trickle out one byte a second.
        public var trickleReplies = false
        /// Result URLs and the content endpoint answer 200 text/html instead of the video.
        public var htmlResults = false
        /// Downloads send their headers and first bytes, then stall.
        public var stallDownloads = false
        /// Seconds a submission takes before it is answered (the task exists from the start).
        public var submitDelay = 0.0
        /// Result URLs answer 302 to another origin (a CDN) that serves the file.
        public var redirectDownloads = false
        // Text a gateway sends back, as it sends it: what reel shows of it on a terminal
        // (a failure reason carrying an escape sequence that would retitle the window).
        /// The reason failed tasks give; nil: a content filter's.
        public var failureReason: String?
        /// The status word unfinished tasks report; nil: the dialect's own.
        public var statusWord: String?
        /// Text every task id ends with.
        public var taskIDSuffix = ""
        /// Every submission is answered 400 with this body, byte for byte.
        public var rejectionBody: String?
        /// That 400 body is gzipped (`Content-Encoding: gzip`), though the client asked for no encoding.
        public var gzipRejections = false
        /// Task ids of about 300 bytes (gateways do not promise short ones).
        public var longTaskIDs = false
        /// Put before every task id (e.g. "." for ids that would make hidden files).
        public var taskIDPrefix = ""

        public init() {}

        public var isEmpty: Bool { self == Faults() }
    }
}
