import Foundation
import Synchronization
import VideoAPI

/// Polling a task to its end, downloading its video, and reusing one downloaded before.
extension LiveGenerator {
    /// Downloads the finished task's video and journals the file. Never inlined: its frame
    /// (paths, digests, the video) exists only after the wait, not during it.
    @inline(never)
    func download(_ call: Call, row: Int64, taskID: String, resultURL: String?, task: Int, deadline: Date) async throws -> GeneratedVideo {
        progress.update(task, .downloading)
        let path = downloadPath(taskID: taskID, fileName: call.options.fileName)
        let file: VideoClient.DownloadedFile
        do {
            file = try await client.download(taskID, resultURL: resultURL, to: path, deadline: deadline)
        } catch {
            throw Self.sayingTheTaskIsKept(error)
        }
        do {
            try await journal.recordDownloaded(row, path: path, sha256: file.sha256, bytes: file.bytes, resultURL: resultURL)
        } catch {
            Self.keep(Journal.RecoveryEntry(row: row, taskID: taskID, download: (path, file.sha256, file.bytes, resultURL)),
                      in: journal, after: error, progress: progress)
        }
        progress.update(task, .saved(path: path, bytes: file.bytes))
        let url = resultURL ?? client.contentURL(of: taskID)
        return GeneratedVideo(id: taskID, url: url, status: .succeeded, request: call.request, sent: sentBody(call), localPath: path, journalKey: call.key)
    }

    /// A video that could not be written was paid for and finished: says that nothing is
    /// lost, and how to get it.
    static func sayingTheTaskIsKept(_ error: VideoAPIError) -> VideoAPIError {
        guard error.code == .disk else { return error }
        return VideoAPIError(.disk, error.message + "; the task is kept in the journal: once that is fixed, the same call fetches it without paying again",
                             taskID: error.taskID)
    }

    /// Where the take's video goes. A template's name taken by another take (an earlier
    /// run's, or two takes with the same fields) gets the task id, so no file is ever
    /// overwritten.
    func downloadPath(taskID: String, fileName: FileName?) -> String {
        let path = (outputDirectory as NSString).appendingPathComponent(fileName?.render(id: taskID) ?? ReelLibrary.fileName(forID: taskID))
        guard fileName != nil else { return path }
        let taken = namesInUse.withLock { names in
            defer { names.insert(path) }
            return names.contains(path) || FileManager.default.fileExists(atPath: path)
        }
        return taken ? (path as NSString).deletingPathExtension + "-" + FileName.idPart(taskID) + ".mp4" : path
    }

    /// Polls until the task finishes, journaling each change of state; its result URL, if the
    /// gateway gave one.
    @inline(never)
    func waitForResult(row: Int64, taskID: String, task: Int, deadline: Date) async throws(VideoAPIError) -> String? {
        let journal = self.journal, progress = self.progress
        let lastState = StateMemory()
        do {
            return try await client.waitForResult(taskID, deadline: deadline) { snapshot in
                progress.update(task, .polled(snapshot))
                let state: Journal.State = switch snapshot.settledStatus {
                case .queued?: .queued
                case .succeeded?: .succeeded
                case .failed?: .failed
                default: .running
                }
                // `succeeded` is not written on its own: the download that follows at once
                // records it with the file. A run stopped in between polls the task again.
                if state != .succeeded && lastState.changed(to: state) {
                    try? await journal.recordState(row, state, progress: snapshot.progress, resultURL: snapshot.resultURL)
                }
            }.resultURL
        } catch {
            if error.code == .taskFailed { try? await journal.recordFailure(row, .failed, error: error.message) }
            throw error
        }
    }

    /// An earlier run's downloaded video, if its file is still there and unchanged.
    func reuse(_ record: TaskRecord, request: GenerationRequest, key: String) async throws -> GeneratedVideo? {
        // Runs before paths were journaled absolute kept them relative to the folder reel ran
        // in, which was the journal's parent unless --state said otherwise.
        let beside = ((journal.directory as NSString).deletingLastPathComponent as NSString)
        guard let journaled = record.path, let expected = record.sha256, let id = record.taskID,
            let path = ([journaled] + (journaled.hasPrefix("/") ? [] : [beside.appendingPathComponent(journaled)])).first(where: { FileManager.default.fileExists(atPath: $0) }),
            (try? RequestKey.fileSHA256(path)) == expected
        else { return nil }
        let url = record.resultURL ?? client.contentURL(of: id)
        return GeneratedVideo(id: id, url: url, status: .succeeded, request: request, sent: record.sentBody, localPath: path, journalKey: key, reused: true)
    }

    /// Copies the downloaded file to `path` (via a temporary file and a rename, so the
    /// target is never half-written). Saving to where it already is does nothing.
    public func save(_ video: GeneratedVideo, to path: String) async throws -> String {
        guard let source = video.localPath else {
            _ = try await client.download(video.id, resultURL: video.url, to: path, deadline: nil)
            return path
        }
        do {
            try await JournaledFile.copy(source, to: path)
        } catch {
            throw VideoAPIError(.disk, "cannot save \(video.id) to \(path): \(error)", taskID: video.id)
        }
        return path
    }
}

/// Remembers the last journaled state, so polls write only on a change.
final class StateMemory: Sendable {
    private let last = Mutex<Journal.State?>(nil)
    func changed(to state: Journal.State) -> Bool {
        last.withLock { last in
            defer { last = state }
            return last != state
        }
    }
}
