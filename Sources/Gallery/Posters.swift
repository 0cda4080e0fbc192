import Foundation
import Footage
import SafeFiles
import VideoAPI
import Workflow

/// A gallery's posters: each video's first frame as a small JPEG, made once per video content
/// (keyed by the SHA-256 the journal already holds for the video) and journaled like a media
/// step, so every later gallery finds it with no ffmpeg run and no hashing. Missing ones are
/// made several to an ffmpeg process, a few processes at once, and only so many per page: a
/// card without one shows its video's first frame once the browser loads it, and a later
/// page makes the next ones.
struct Posters {
    let journal: Journal
    /// `<state>/posters`.
    let folder: String

    static let operation = "poster"
    /// What makes a poster what it is (part of its key): the first frame, 320 wide, JPEG.
    static let parameters = "first frame, 320 wide, jpeg q5"
    /// New posters per page, about its first two screens: a run's page of hundreds of new
    /// takes stays quick to write, and each later page makes the next ones.
    static let newPerPage = 24
    /// Videos per ffmpeg process, and processes at once.
    static let perProcess = 8
    static let processes = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    struct Video: Hashable {
        var path: String
        var sha256: String
    }

    /// The poster file for each of `videos` (by the video's SHA-256) that has one: those
    /// journaled whose file is there, and up to `newPerPage` made now, in the order given.
    /// `journaled`: the journal's media records (read once by the caller).
    func files(for videos: [Video], journaled: [MediaRecord], runID: Int64) async -> [String: String] {
        let known = Dictionary(journaled.filter { $0.operation == Self.operation }.map { ($0.key, $0.path) }, uniquingKeysWith: { _, newer in newer })
        var found: [String: String] = [:]
        var missing: [Video] = []
        var seen: Set<String> = []
        for video in videos where seen.insert(video.sha256).inserted {
            if let path = known[Self.key(video.sha256)], FileManager.default.fileExists(atPath: path) {
                found[video.sha256] = path
            } else if missing.count < Self.newPerPage, FileManager.default.fileExists(atPath: video.path) {
                missing.append(video)
            }
        }
        guard !missing.isEmpty, FFmpeg.locate("ffmpeg") != nil else { return found }
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let batches = stride(from: 0, to: missing.count, by: Self.perProcess).map { Array(missing[$0..<min($0 + Self.perProcess, missing.count)]) }
        let made = await withTaskGroup(of: [(Video, String)].self) { group in
            var next = 0
            func start() {
                guard next < batches.count else { return }
                let batch = batches[next]
                next += 1
                group.addTask { await self.make(batch) }
            }
            for _ in 0..<Self.processes { start() }
            var all: [(Video, String)] = []
            for await done in group {
                all += done
                start()
            }
            return all
        }
        // Journaled together (one commit: the writes join one batch), for every later page.
        await withTaskGroup(of: Void.self) { group in
            for (video, poster) in made {
                found[video.sha256] = poster
                group.addTask {
                    guard let sha = try? RequestKey.fileSHA256(poster),
                          let bytes = (try? FileManager.default.attributesOfItem(atPath: poster))?[.size] as? NSNumber else { return }
                    try? await journal.recordMedia(MediaRecord(key: Self.key(video.sha256), runID: runID, operation: Self.operation, path: poster,
                                                               sha256: sha, bytes: bytes.int64Value, inputs: [video.path]))
                }
            }
        }
        return found
    }

    static func key(_ videoSHA256: String) -> String {
        MediaRecord.key(operation: operation, parameters: parameters, inputSHA256s: [videoSHA256])
    }

    /// One ffmpeg for the batch (each input read up to its first frame, one thread each); a
    /// batch that fails as a whole (a damaged file among them) is made one by one, so one bad
    /// video costs only its own poster.
    private func make(_ batch: [Video]) async -> [(Video, String)] {
        let targets = batch.map { (folder as NSString).appendingPathComponent($0.sha256 + ".jpg") }
        let temporaries = targets.map { AtomicFile.temporaryPath(beside: $0) }
        defer { for temporary in temporaries { try? FileManager.default.removeItem(atPath: temporary) } }
        var arguments = ["-nostdin", "-hide_banner", "-v", "error", "-y"]
        for video in batch { arguments += ["-threads", "1", "-i", video.path] }
        for (i, temporary) in temporaries.enumerated() {
            arguments += ["-map", "\(i):v:0", "-frames:v", "1", "-vf", "scale=320:-2", "-q:v", "5", "-threads", "1", "-f", "image2", "-c:v", "mjpeg", temporary]
        }
        do {
            try await FFmpeg.run("ffmpeg", arguments)
        } catch {
            guard batch.count > 1 else { return [] }
            var made: [(Video, String)] = []
            for video in batch { made += await make([video]) }
            return made
        }
        return zip(batch, zip(temporaries, targets)).compactMap { video, files in
            guard FileManager.default.fileExists(atPath: files.0), (try? AtomicFile.move(files.0, over: files.1)) != nil else { return nil }
            return (video, files.1)
        }
    }
}
