import Foundation
import VideoAPI

/// Generates for real through a `VideoClient`: submit, wait, and download at once (result
/// URLs expire) into the output folder, with at most `concurrency` tasks in flight.
public final class LiveGenerator: VideoGenerator {
    let client: VideoClient
    let limiter: ConcurrencyLimiter
    let outputDirectory: String
    let progress: any ProgressSink

    public init(client: VideoClient, concurrency: Int, outputDirectory: String, progress: any ProgressSink) {
        self.client = client
        limiter = ConcurrencyLimiter(limit: concurrency)
        self.outputDirectory = outputDirectory
        self.progress = progress
    }

    public func generate(_ request: GenerationRequest, fresh: Bool) async throws -> GeneratedVideo {
        let client = self.client, progress = self.progress, directory = outputDirectory
        return try await limiter.withPermit {
            let task = progress.begin(request)
            do {
                let submitted = try await client.submit(request)
                let id = submitted.id!
                progress.update(task, .submitted(id: id))
                let finished = try await client.waitForResult(id) { snapshot in
                    progress.update(task, .polled(snapshot))
                }
                progress.update(task, .downloading)
                let path = (directory as NSString).appendingPathComponent(ReelLibrary.fileName(forID: id))
                let bytes = try await client.download(id, resultURL: finished.resultURL, to: path)
                progress.update(task, .saved(path: path, bytes: bytes))
                let url = finished.resultURL ?? "\(client.configuration.baseURL)/v1/videos/\(id)/content"
                return GeneratedVideo(id: id, url: url, status: "succeeded", request: request, localPath: path)
            } catch let error as VideoAPIError {
                progress.update(task, .failed(error))
                throw error
            } catch {
                let wrapped = VideoAPIError(.cancelled, "cancelled")
                progress.update(task, .failed(wrapped))
                throw wrapped
            }
        }
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
        var fields: [(String, JSONValue)] = [("id", .string(video.id)), ("status", .string(snapshot.status?.description ?? "unknown"))]
        if let p = snapshot.progress { fields.append(("progress", .int(Int64(p)))) }
        if let u = snapshot.resultURL { fields.append(("url", .string(u))) }
        if let r = snapshot.failureReason { fields.append(("failure_reason", .string(r))) }
        if let path = video.localPath { fields.append(("path", .string(path))) }
        return fields
    }
}
