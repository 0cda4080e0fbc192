import Foundation
import NIOHTTP1
import Support

/// Polling: one reading of a task, and the wait until it has finished.
extension VideoClient {
    // MARK: Poll

    /// One reading of the task, and the server's hint (seconds) for when to ask again.
    public func poll(_ taskID: String, deadline: Date? = nil) async throws(VideoAPIError) -> (TaskSnapshot, hint: Double?) {
        let escaped = Self.pathSegment(taskID)
        let remembered = routes.withLock { $0[configuration.baseURL] }
        var candidates = PollRoute.allCases
        if let remembered { candidates = [remembered] }
        var lastReply: Reply?
        for route in candidates {
            let reply = try await exchange(.GET, url: url(route.path(for: escaped)), body: nil, idempotent: true, parseJSON: true, deadline: deadline)
            if (reply.status == 404 || reply.status == 405) && remembered == nil {
                lastReply = reply
                continue
            }
            guard (200..<300).contains(reply.status) else { throw failure(of: reply, doing: "polling task \(taskID)", taskID: taskID) }
            if remembered == nil { routes.withLock { $0[configuration.baseURL] = route } }
            guard let json = reply.json else {
                throw VideoAPIError(.apiError, "the reply about task \(taskID) is not JSON: \(reply.preview)", taskID: taskID)
            }
            var snapshot = TaskSnapshot(decoding: json)
            snapshot.id = snapshot.id ?? taskID
            return (snapshot, reply.pollHint)
        }
        throw failure(of: lastReply!, doing: "polling task \(taskID) (tried \(PollRoute.allCases.map { $0.path(for: escaped) }.joined(separator: " and ")))", taskID: taskID)
    }

    /// Polls until the task has succeeded; raises `task_failed` or `timeout` otherwise.
    /// `deadline` (default: `taskTimeout` from now) bounds every poll, slow replies included.
    /// `onUpdate` sees every reading (for progress and warnings).
    public func waitForResult(_ taskID: String, deadline: Date? = nil,
                              onUpdate: @Sendable (TaskSnapshot) async -> Void = { _ in }) async throws(VideoAPIError) -> TaskSnapshot {
        let start = Date()
        let deadline = deadline ?? start.addingTimeInterval(configuration.taskTimeout)
        var polls = 0
        while true {
            let (snapshot, hint): (TaskSnapshot, Double?)
            do {
                // A task per reading: the exchange's frames (some KiB) get their own stack,
                // freed when it ends, rather than a slab the parked generation keeps for minutes.
                (snapshot, hint) = try await FreshStack.run { () async throws(VideoAPIError) in try await self.poll(taskID, deadline: deadline) }
            } catch where error.code == .timeout && deadline.timeIntervalSinceNow < 1 {
                throw unansweredAtDeadline(taskID, error)
            }
            polls += 1
            await onUpdate(snapshot)
            switch snapshot.settledStatus {
            case .succeeded:
                return snapshot
            case .failed:
                throw Self.taskFailed(taskID, snapshot)
            default:
                break
            }
            let elapsed = Date().timeIntervalSince(start)
            let wait = configuration.poll.interval(afterPoll: polls - 1, elapsed: elapsed, serverHint: hint)
            if Date().addingTimeInterval(wait) > deadline {
                throw unfinishedAtDeadline(taskID, snapshot, elapsed: elapsed)
            }
            do {
                try await LoopTimer.sleep(seconds: wait)
            } catch {
                throw VideoAPIError(.cancelled, "stopped waiting for task \(taskID)", taskID: taskID)
            }
        }
    }

    // The errors are made in plain functions: their message building then uses the thread's
    // stack, not the frame a waiting generation keeps for minutes (async frames hold every
    // temporary of the function).

    func unansweredAtDeadline(_ taskID: String, _ error: VideoAPIError) -> VideoAPIError {
        VideoAPIError(.timeout, "task \(taskID) did not finish within --timeout (\(Self.seconds(configuration.taskTimeout))): the gateway had not answered the last poll by then (\(error.message)). It may still finish on the gateway: raise --timeout, or check it later with `reel task \(taskID)`", taskID: taskID)
    }

    static func taskFailed(_ taskID: String, _ snapshot: TaskSnapshot) -> VideoAPIError {
        VideoAPIError(.taskFailed, "task \(taskID) failed: \(snapshot.failureReason ?? "no reason given")", taskID: taskID)
    }

    func unfinishedAtDeadline(_ taskID: String, _ snapshot: TaskSnapshot, elapsed: Double) -> VideoAPIError {
        VideoAPIError(.timeout, "task \(taskID) did not finish within --timeout (\(Self.seconds(configuration.taskTimeout))); it was still \(snapshot.status?.description ?? "unfinished") after \(Self.seconds(elapsed)) and the next poll would come after the limit. It may still finish on the gateway: raise --timeout, or check it later with `reel task \(taskID)`", taskID: taskID)
    }

    /// "8 s", "1.5 s".
    static func seconds(_ value: Double) -> String {
        value == value.rounded() || value >= 10 ? "\(Int(value.rounded())) s" : "\((value * 10).rounded() / 10) s"
    }
}
