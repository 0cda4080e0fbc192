import Foundation
import VideoAPI

/// The POST, and what keeps its task id when the journal will not.
extension LiveGenerator {
    /// The POST. Ctrl-C stops a submission that is waiting (a backoff, a 429 pause: nothing
    /// was created), never one on the wire: that completes and its task id is journaled.
    /// `newRow`: the row was written for this call, so if nothing is sent it can say so. A row
    /// adopted from an earlier run keeps its state: it may stand for a billed task.
    func submit(_ request: GenerationRequest, row: Int64, newRow: Bool, idempotencyKey: String, task: Int,
                        deadline: Date) async throws -> String {
        let client = self.client, journal = self.journal, probe = self.probe, progress = self.progress
        guard !submissions.isStopping else {
            try? await journal.recordFailure(row, newRow ? .failed : .unknown,
                                             error: newRow ? "not submitted: the run was stopping" : "not sent again: the run was stopping")
            throw VideoAPIError(.cancelled, "not submitted: the run is stopping")
        }
        let attempt = Task { () throws -> String in
            let role = await probe.enter()
            let submission: VideoClient.Submission
            do throws(VideoAPIError) {
                submission = try await client.submit(request, idempotencyKey: idempotencyKey, repeatable: role == .known, deadline: deadline)
            } catch {
                await probe.leave(role, learned: false, answered: false)
                // A new row whose POST created nothing is `failed`. A resubmitted row stands
                // for an earlier POST of unknown outcome: unless this attempt learned the task
                // (it failed at once), that earlier one is still unknown.
                let known = newRow ? !error.submissionOutcomeUnknown : error.code == .taskFailed
                let stopping = error.code == .cancelled
                try? await journal.recordFailure(row, known ? .failed : .unknown,
                                                 error: stopping ? (newRow ? "not submitted: the run was stopping" : "not sent again: the run was stopping")
                                                        : error.message)
                throw error
            }
            let id = submission.task.id!
            await probe.leave(role, learned: submission.gatewayHonorsIdempotencyKeys, answered: true)
            do {
                // What the gateway does with Idempotency-Key is journaled once: a submission
                // that went out already knowing it has nothing to add (a statement less each).
                try await journal.recordSubmitted(row, taskID: id, gatewayHonorsIdempotencyKeys: submission.gatewayHonorsIdempotencyKeys && role != .known)
            } catch {
                Self.keep(Journal.RecoveryEntry(row: row, taskID: id), in: journal, after: error, progress: progress)
            }
            return id
        }
        submissions.attach(attempt)
        defer { submissions.detach(attempt) }
        let id = try await attempt.value
        progress.update(task, .submitted(id: id))
        return id
    }

    /// A task id or file the journal would not take: kept in a recovery file and shown, so it
    /// is never only in memory.
    static func keep(_ entry: Journal.RecoveryEntry, in journal: Journal, after error: any Error, progress: any ProgressSink) {
        let kept = journal.keepForRecovery(entry)
        progress.warning("""
            the journal would not record task \(entry.taskID) (journal row \(entry.row)): \(error); \
            \(kept.map { "kept in \($0); the next run adopts it" } ?? "write it down — `reel task \(entry.taskID)` fetches it")
            """)
    }
}
