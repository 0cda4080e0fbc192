import ArgumentParser
import Simulator

/// How the built-in simulator behaves; shared by `reel simulator` and `reel run --simulate`.
struct SimulatorOptions: ParsableArguments {
    @Option(name: .customLong("latency"), help: ArgumentHelp("Simulated seconds per generation.", valueName: "s"))
    var latency: Double = 3

    @Option(help: ArgumentHelp("Response dialect: openai ({\"id\",\"status\",\"video_url\"}) or wrapped ({\"code\":\"success\",\"data\":{…}})."))
    var dialect: SimulatorConfiguration.Dialect = .openai

    @Option(name: .customLong("poll-paths"), help: ArgumentHelp("Which poll path answers (the other answers 404)."))
    var pollPaths: SimulatorConfiguration.PollPaths = .both

    @Option(name: .customLong("result-bytes"), help: ArgumentHelp("Size of each result video in bytes.", valueName: "n"))
    var resultBytes: Int = 4096

    @Flag(name: .customLong("sample-videos"), help: "Serve one small built-in sample as every video, instead of drawing each (prompt, seed, colour, duration) with ffmpeg; for load tests.")
    var sampleVideos = false

    @Option(name: .customLong("rate-limit-rate"), help: ArgumentHelp("Fraction of requests answered 429 with Retry-After.", valueName: "p"))
    var rateLimitRate: Double = 0
    @Option(name: .customLong("retry-after"), help: ArgumentHelp("Retry-After seconds sent with a simulated 429.", valueName: "s"))
    var retryAfter: Int = 1
    @Option(name: .customLong("server-error-rate"), help: ArgumentHelp("Fraction answered 500, 502 or 503.", valueName: "p"))
    var serverErrorRate: Double = 0
    @Option(name: .customLong("drop-rate"), help: ArgumentHelp("Fraction whose connection is dropped without an answer.", valueName: "p"))
    var dropRate: Double = 0
    @Option(name: .customLong("drop-after-submit-rate"), help: ArgumentHelp("Fraction of submissions that create their task, then drop the connection.", valueName: "p"))
    var dropAfterSubmitRate: Double = 0
    @Option(name: .customLong("slow-rate"), help: ArgumentHelp("Fraction answered late (see --slow-seconds).", valueName: "p"))
    var slowRate: Double = 0
    @Option(name: .customLong("slow-seconds"), help: ArgumentHelp("How late a slow answer is.", valueName: "s"))
    var slowSeconds: Double = 2
    @Option(name: .customLong("malformed-rate"), help: ArgumentHelp("Fraction answered 200 with a body that is not JSON.", valueName: "p"))
    var malformedRate: Double = 0
    @Option(name: .customLong("task-failure-rate"), help: ArgumentHelp("Fraction of tasks that end failed with a reason.", valueName: "p"))
    var taskFailureRate: Double = 0
    @Option(name: .customLong("missing-result-rate"), help: ArgumentHelp("Fraction of result URLs that answer 404.", valueName: "p"))
    var missingResultRate: Double = 0
    @Flag(name: .customLong("spare-submissions"), help: "Inject request faults into polls and downloads only, never into submissions.")
    var spareSubmissions = false
    @Flag(name: .customLong("ignore-idempotency-keys"), help: "Act like a gateway that ignores Idempotency-Key (every POST makes a new task).")
    var ignoreIdempotencyKeys = false
    @Flag(name: .customLong("echo-authorization"), help: "Quote the request's Authorization header in error replies (a proxy that echoes headers).")
    var echoAuthorization = false
    @Flag(name: .customLong("trickle-replies"), help: "Send poll replies (not submissions) one byte a second.")
    var trickleReplies = false
    @Flag(name: .customLong("html-results"), help: "Answer result downloads with 200 text/html instead of the video.")
    var htmlResults = false
    @Flag(name: .customLong("stall-downloads"), help: "Send a download's first bytes, then stall.")
    var stallDownloads = false
    @Flag(name: .customLong("redirect-downloads"), help: "Redirect result URLs (302) to another origin, as a gateway handing over to its CDN.")
    var redirectDownloads = false
    @Option(name: .customLong("failure-reason"), help: ArgumentHelp("The reason failed tasks give (with --task-failure-rate), as it is: escape sequences included.", valueName: "text"))
    var failureReason: String?
    @Option(name: .customLong("status-word"), help: ArgumentHelp("The status word unfinished tasks report (one reel does not know is treated as running).", valueName: "word"))
    var statusWord: String?
    @Option(name: .customLong("task-id-suffix"), help: ArgumentHelp("Text every task id ends with.", valueName: "text"))
    var taskIDSuffix = ""
    @Option(name: .customLong("reject-with"), help: ArgumentHelp("Answer every submission 400 with this body, byte for byte.", valueName: "body"))
    var rejectionBody: String?
    @Flag(name: .customLong("gzip-rejections"), help: "Gzip that 400 body (Content-Encoding: gzip), though reel asks for no encoding.")
    var gzipRejections = false
    @Flag(name: .customLong("long-task-ids"), help: "Hand out task ids of about 300 bytes.")
    var longTaskIDs = false
    @Option(name: .customLong("task-id-prefix"), help: ArgumentHelp("Put this before every task id (\".\" makes ids that would name hidden files).", valueName: "text"))
    var taskIDPrefix = ""
    @Option(name: .customLong("submit-delay"), help: ArgumentHelp("Seconds every submission takes to be answered (its task exists from the start).", valueName: "s"))
    var submitDelay: Double = 0
    @Option(name: .customLong("fault-seed"), help: ArgumentHelp("Seed for the fault dice (same seed, same faults).", valueName: "n"))
    var faultSeed: UInt64 = 1

    func validate() throws {
        _ = try configuration()
    }

    func configuration(port: Int = 0, requiredKey: String? = nil) throws -> SimulatorConfiguration {
        var c = SimulatorConfiguration()
        c.port = port
        c.dialect = dialect
        c.pollPaths = pollPaths
        guard latency >= 0 else { throw ValidationError("--latency must be 0 or more (got \(latency))") }
        c.generationSeconds = latency
        c.resultBytes = max(resultBytes, 0)
        c.footage = sampleVideos ? .sample : .drawn
        c.requiredKey = requiredKey
        c.seed = faultSeed
        let rates: [(String, Double)] = [("--rate-limit-rate", rateLimitRate), ("--server-error-rate", serverErrorRate), ("--drop-rate", dropRate), ("--drop-after-submit-rate", dropAfterSubmitRate),
                                         ("--slow-rate", slowRate), ("--malformed-rate", malformedRate), ("--task-failure-rate", taskFailureRate),
                                         ("--missing-result-rate", missingResultRate)]
        for (name, rate) in rates where !(0...1).contains(rate) {
            throw ValidationError("\(name) is a fraction from 0 to 1 (got \(rate))")
        }
        c.faults.rateLimited = rateLimitRate
        c.faults.retryAfterSeconds = retryAfter
        c.faults.serverError = serverErrorRate
        c.faults.dropConnection = dropRate
        c.faults.dropAfterSubmit = dropAfterSubmitRate
        c.faults.slow = slowRate
        c.faults.slowSeconds = slowSeconds
        c.faults.malformed = malformedRate
        c.faults.taskFailure = taskFailureRate
        c.faults.missingResult = missingResultRate
        c.faults.includeSubmissions = !spareSubmissions
        c.honorsIdempotencyKeys = !ignoreIdempotencyKeys
        c.faults.echoAuthorization = echoAuthorization
        c.faults.trickleReplies = trickleReplies
        c.faults.htmlResults = htmlResults
        c.faults.stallDownloads = stallDownloads
        c.faults.redirectDownloads = redirectDownloads
        c.faults.failureReason = failureReason
        c.faults.statusWord = statusWord
        c.faults.taskIDSuffix = taskIDSuffix
        c.faults.rejectionBody = rejectionBody
        c.faults.gzipRejections = gzipRejections
        c.faults.longTaskIDs = longTaskIDs
        c.faults.taskIDPrefix = taskIDPrefix
        guard submitDelay >= 0 else { throw ValidationError("--submit-delay must be 0 or more (got \(submitDelay))") }
        c.faults.submitDelay = submitDelay
        return c
    }
}

// Closed sets of values: the parser checks them and help lists them.
extension SimulatorConfiguration.Dialect: ExpressibleByArgument {}
extension SimulatorConfiguration.PollPaths: ExpressibleByArgument {}
