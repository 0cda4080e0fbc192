import AsyncHTTPClient
import Crypto
import Foundation
import SafeFiles
import NIOCore
import NIOHTTP1
import Support
import NIOFileSystem  // for SystemPackage's FileDescriptor, FilePath and Errno, which it re-exports
import NIOPosix

/// Downloads: streamed to a temporary file, checked to be a video, hashed, renamed into place.
extension VideoClient {
    // MARK: Download

    /// A video on disk: its size and SHA-256 (hex), computed while it streamed in.
    public struct DownloadedFile: Sendable, Equatable {
        public var bytes: Int64
        public var sha256: String
    }

    /// The gateway's content endpoint for a task: serves its video whether or not a result
    /// URL came with it (and after such a URL expires).
    public func contentURL(of taskID: String) -> String {
        url("/v1/videos/\(Self.pathSegment(taskID))/content")
    }

    /// Streams the task's video into `path`: written to a temporary file beside it and
    /// renamed into place only when complete, so a failed download leaves nothing behind.
    @discardableResult
    public func download(_ taskID: String, resultURL: String?, to path: String, deadline: Date? = nil) async throws(VideoAPIError) -> DownloadedFile {
        let deadline = deadline ?? Date().addingTimeInterval(configuration.taskTimeout)
        let content = contentURL(of: taskID)
        var sources = [content]
        if let resultURL {
            let absolute = resultURL.hasPrefix("/") ? configuration.baseURL + resultURL : resultURL
            if absolute != content { sources.insert(absolute, at: 0) }
        }
        var lastError: VideoAPIError?
        for source in sources {
            do {
                return try await downloadWithRetries(from: source, to: path, taskID: taskID, deadline: deadline)
            } catch let failure as DownloadFailure {
                lastError = failure.error
                // An expired or missing result URL, or one that answers with a web page instead
                // of the video: fall back to the content endpoint.
                guard failure.tryAnotherSource else { throw failure.error }
            } catch is CancellationError {
                throw VideoAPIError(.cancelled, "downloading task \(taskID): cancelled", taskID: taskID)
            } catch {
                throw (error as? VideoAPIError) ?? VideoAPIError(.network, "downloading task \(taskID): \(error)", taskID: taskID)
            }
        }
        throw lastError!
    }

    func downloadWithRetries(from source: String, to path: String, taskID: String, deadline: Date) async throws -> DownloadedFile {
        var attempt = 1
        while true {
            do {
                guard deadline.timeIntervalSinceNow > 0 else { throw pastDeadline("downloading task \(taskID)", taskID: taskID) }
                try await requests.acquire()
                defer { requests.release() }
                // On a task of its own (as in exchange()), bounded by the deadline, and by the
                // request time limit without a byte: a stalled download is tried again.
                do {
                    return try await TimeBound.run(until: deadline, idle: configuration.requestTimeout) { pulse in
                        try await self.downloadOnce(from: source, to: path, taskID: taskID, pulse: pulse)
                    }
                } catch is TimeBound.Exceeded where deadline.timeIntervalSinceNow > 0 {
                    throw DownloadFailure(error: VideoAPIError(.network, "downloading task \(taskID): no data for \(Self.seconds(configuration.requestTimeout))", taskID: taskID),
                                          retry: .maybeSent)
                }
            } catch is TimeBound.Exceeded {
                throw pastDeadline("downloading task \(taskID)", taskID: taskID)
            } catch let failure as DownloadFailure {
                guard !failure.tryAnotherSource, let delay = configuration.retry.delay(after: failure.retry, attempt: attempt, idempotent: true),
                    Date().addingTimeInterval(delay) < deadline
                else { throw failure }
                observer?(.retrying(method: "GET", path: Self.displayPath(source), reason: failure.error.message, delay: delay, attempt: attempt))
                attempt += 1
                try await sleep(delay, taskID: taskID)
            }
        }
    }

    /// A download attempt that failed: whether to retry it, or to try the next source.
    struct DownloadFailure: Error {
        let error: VideoAPIError
        let retry: RetryPolicy.Failure
        var tryAnotherSource = false
    }

    /// Where downloads are written and renamed into place: one thread of their own, so a slow
    /// disk never holds up the event loop. One thread: ext4 changes one folder one file at a
    /// time anyway, and two threads creating files in it at once spun on the folder's lock (9%
    /// of a 1,000-download run's CPU), as a rename from another thread does; writes into the
    /// page cache are quick.
    static let videoThread: NIOThreadPool = {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        return thread
    }()

    /// The error for work cut off by the generation's --timeout.
    func pastDeadline(_ what: String, taskID: String?) -> VideoAPIError {
        VideoAPIError(.timeout, "\(what): stopped at the --timeout limit (\(Self.seconds(configuration.taskTimeout)) per generation); raise --timeout if the gateway is just slow", taskID: taskID)
    }

    func downloadOnce(from source: String, to path: String, taskID: String, pulse: TimeBound.Pulse) async throws -> DownloadedFile {
        let directory = (path as NSString).deletingLastPathComponent
        // Usually there already: one access(2), not FileManager's walk up the path.
        if !directory.isEmpty && access(directory, F_OK) != 0 {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw VideoAPIError(.disk, "cannot create the folder \(directory): \(OutputFolderProblem.describe(directory) ?? error.localizedDescription)", taskID: taskID)
            }
        }
        // A device or folder at `path` is refused before the download, not replaced after it.
        do { try AtomicFile.checkTarget(path) } catch { throw VideoAPIError(.disk, "cannot save the video for task \(taskID): \(error.localizedDescription)", taskID: taskID) }
        let temporary = AtomicFile.temporaryPath(beside: path)
        var keep = false
        defer { if !keep { unlink(temporary) } }

        let started = Date()
        // Redirects (a gateway handing over to its CDN) are followed by AsyncHTTPClient, which
        // drops Authorization when the redirect leaves the gateway's origin.
        var request = HTTPClientRequest(url: source)
        authorize(&request.headers, for: source)
        let response: HTTPClientResponse
        do {
            // Time limits: TimeBound's, around this attempt (see VideoClient.init).
            response = try await http.execute(request, deadline: .distantFuture)
        } catch let error as HTTPClientError where error == .redirectLimitReached || error == .redirectCycleDetected {
            throw VideoAPIError(.network, "downloading task \(taskID): too many redirects", taskID: taskID)
        } catch {
            throw DownloadFailure(error: VideoAPIError(.network, "downloading task \(taskID): \(Self.describe(error))", taskID: taskID),
                                  retry: Self.classify(error))
        }
        let location = response.url?.absoluteString ?? source
        let status = Int(response.status.code)
        observer?(.exchange(method: "GET", path: Self.displayPath(location), status: status, seconds: Date().timeIntervalSince(started), note: "download"))
        guard status == 200 else {
            let body = (try? await response.body.collect(upTo: 64 << 10)).map { Redaction.redact(String(buffer: $0)) } ?? ""
            let error = VideoAPIError(status == 404 ? .apiError : .network,
                                      "downloading task \(taskID): the server answered \(status)\(body.isEmpty ? "" : " (\(body.prefix(200)))")",
                                      taskID: taskID, httpStatus: status)
            throw DownloadFailure(error: error, retry: .status(status, retryAfter: RetryPolicy.retryAfterSeconds(response.headers.first(name: "retry-after"))),
                                  tryAnotherSource: [403, 404, 410].contains(status))
        }
        let where_ = Self.displayPath(location)
        if let problem = MediaSignature.problem(contentType: response.headers.first(name: "content-type")) {
            let body = (try? await response.body.collect(upTo: 4 << 10)).map { Redaction.redact(String(buffer: $0)) } ?? ""
            throw DownloadFailure(error: VideoAPIError(.apiError, "the result of task \(taskID) at \(where_) is not a video: \(problem) (\(body.prefix(120).replacingOccurrences(of: "\n", with: " ")))", taskID: taskID),
                                  retry: .status(status, retryAfter: nil), tryAnotherSource: true)
        }
        let expected = response.headers.first(name: "content-length").flatMap(Int64.init)
        if let expected, expected > configuration.maxDownloadBytes {
            throw VideoAPIError(.apiError, "task \(taskID)'s video is \(expected >> 20) MiB, past the \(configuration.maxDownloadBytes >> 20) MiB limit", taskID: taskID)
        }
        var written: Int64 = 0
        var hasher = SHA256()
        var prefix: [UInt8] = []
        var file = VideoFileWriter(path: temporary)
        defer { file.abandon() }
        do {
            for try await chunk in response.body {
                pulse.beat()
                written += Int64(chunk.readableBytes)
                if written > configuration.maxDownloadBytes {
                    throw VideoAPIError(.apiError, "task \(taskID)'s video grew past the \(configuration.maxDownloadBytes >> 20) MiB limit", taskID: taskID)
                }
                if prefix.count < MediaSignature.prefixLength {
                    prefix += chunk.readableBytesView.prefix(MediaSignature.prefixLength - prefix.count)
                    if prefix.count == MediaSignature.prefixLength && !MediaSignature.looksLikeVideo(prefix) { break }
                }
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                try await file.append(chunk)
            }
        } catch let error as VideoAPIError {
            throw error
        } catch let error as VideoFileWriter.Failure {
            throw VideoAPIError(.disk, "cannot write the video for task \(taskID) to \(path): \(error.reason)", taskID: taskID)
        } catch {
            let wrapped = VideoAPIError(.network, "downloading task \(taskID) broke off after \(written) bytes: \(Self.describe(error))", taskID: taskID)
            throw DownloadFailure(error: wrapped, retry: .maybeSent)
        }
        if written > 0 && !MediaSignature.looksLikeVideo(prefix) {
            throw DownloadFailure(error: VideoAPIError(.apiError, "the result of task \(taskID) at \(where_) is not a video: it starts \(MediaSignature.glimpse(prefix)), not like an MP4 or WebM file", taskID: taskID),
                                  retry: .status(status, retryAfter: nil), tryAnotherSource: true)
        }
        if let expected, expected != written {
            throw DownloadFailure(error: VideoAPIError(.network, "downloading task \(taskID): got \(written) of \(expected) bytes", taskID: taskID),
                                  retry: .maybeSent)
        }
        if written == 0 {
            throw DownloadFailure(error: VideoAPIError(.network, "downloading task \(taskID): the video is empty", taskID: taskID), retry: .maybeSent)
        }
        // No fsync: a killed process loses nothing in the page cache, and after a power
        // cut the journal's SHA-256 check at reuse catches a damaged file and fetches it again.
        do {
            try await file.finish(movingTo: path)
        } catch let error as VideoFileWriter.Failure {
            throw VideoAPIError(.disk, error.whileMoving ? "the downloaded video for task \(taskID): \(error.reason)"
                                    : "cannot write the video for task \(taskID) to \(path): \(error.reason)", taskID: taskID)
        }
        keep = true
        return DownloadedFile(bytes: written, sha256: Hex.string(hasher.finalize()))
    }
}

/// A download's temporary file, written on `VideoClient.videoThread` in as few trips there
/// as it can: the first batch goes with the open, the last with the close and the rename
/// into place, so a video that fits one batch takes one trip (NIOFileSystem's handle took
/// three: open, write, close, about 8% of a generation's instructions with their async
/// machinery). The rename goes on that thread too: made on the event loop, it waited for the
/// folder's lock while the file thread created the next file, and the kernel spins while it
/// waits (1.6% of a 4,000-download run's CPU on an ext4 disk with many deleted files, where
/// each creation is slow), with every generation's work held up behind it.
struct VideoFileWriter {
    /// What is held in memory before a trip to write it: NIOFileSystem's buffered writer held
    /// as much.
    static let batchBytes = 512 << 10

    /// Why the file could not be written (or moved into place), in the system's words.
    struct Failure: Error {
        let reason: String
        var whileMoving = false
    }

    private let path: String
    private var descriptor: FileDescriptor?
    private var batch = ByteBuffer()

    init(path: String) { self.path = path }

    mutating func append(_ chunk: ByteBuffer) async throws {
        var chunk = chunk
        batch.writeBuffer(&chunk)
        if batch.readableBytes >= Self.batchBytes { try await write(closing: false, movingTo: nil) }
    }

    /// Writes what is left, closes the file and renames it to `target` (replacing what is there).
    mutating func finish(movingTo target: String) async throws { try await write(closing: true, movingTo: target) }

    /// Closes the file if it is still open (after a failure; the caller removes it).
    mutating func abandon() {
        try? descriptor?.close()
        descriptor = nil
    }

    private mutating func write(closing: Bool, movingTo target: String?) async throws {
        let (path, open, bytes) = (path, descriptor, batch)
        batch.clear()
        // The trip owns the open file now: it closes it if the write fails.
        descriptor = nil
        do {
            descriptor = try await VideoClient.videoThread.runIfActive { () throws(Failure) -> FileDescriptor? in
                let file: FileDescriptor
                do {
                    file = try open ?? FileDescriptor.open(FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                                                           permissions: [.ownerReadWrite, .groupRead, .otherRead])
                } catch {
                    throw Failure(reason: "cannot create it: \(Self.describe(error))")
                }
                do {
                    _ = try bytes.withUnsafeReadableBytes { try file.writeAll($0) }
                } catch {
                    try? file.close()
                    throw Failure(reason: Self.describe(error))
                }
                guard closing else { return file }
                // Closed once, whatever close says: the descriptor is gone either way.
                do { try file.close() } catch { throw Failure(reason: Self.describe(error)) }
                if let target {
                    do { try AtomicFile.move(path, over: target) } catch { throw Failure(reason: error.localizedDescription, whileMoving: true) }
                }
                return nil
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            // Cancelled before the trip ran: the file it would have written is still open.
            try? open?.close()
            throw error
        }
    }

    private static func describe(_ error: any Error) -> String {
        (error as? Errno).map { "\($0.description) (errno \($0.rawValue))" } ?? "\(error)"
    }
}
