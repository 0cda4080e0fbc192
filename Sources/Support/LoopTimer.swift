import NIOCore
import NIOPosix

/// Sleeps on an event loop's timers, the ones the HTTP client already runs. On Linux every
/// `Task.sleep` makes a task of its own and a Dispatch timer source: about 5.5 KiB for as long
/// as it sleeps, and a task start and a timer to arm per call. Thousands of generations parked
/// between polls paid that (README, Performance); a scheduled event-loop task is one entry in
/// the loop's timer heap and a future.
public enum LoopTimer {
    /// Waits `seconds` (at most about 30 years); throws `CancellationError` at once if the
    /// task is cancelled, before or while it waits.
    public static func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        let scheduled = after(seconds: seconds) {}
        do {
            try await withTaskCancellationHandler {
                try await scheduled.futureResult.get()
            } onCancel: {
                scheduled.cancel()
            }
        } catch {
            // The only failure a scheduled task has is being cancelled.
            throw CancellationError()
        }
    }

    /// Runs `action` once after `seconds` unless the returned timer is cancelled first.
    static func after(seconds: Double, _ action: @escaping @Sendable () -> Void) -> Scheduled<Void> {
        let nanoseconds = Int64(min(max(seconds, 0), 1e9) * 1e9)
        return MultiThreadedEventLoopGroup.singleton.next().scheduleTask(in: .nanoseconds(nanoseconds), action)
    }
}
