import CExecutorHook
import NIOCore
import NIOPosix
import Synchronization

/// Swift concurrency's global executor, run on NIO's event loops (the HTTP client's). Without
/// it every HTTP reply hops from an event-loop thread to a Dispatch thread to resume its task,
/// and back for the next request: a futex wake and a context switch each way, the largest
/// item of a generation's CPU after the kernel's file creation (README, Performance). Like
/// NIO's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`, with the
/// hook found by linking (CExecutorHook) instead of by name, and jobs run on the generic
/// executor rather than isolated to the loop (`runOnTheLoop`).
public enum EventLoopExecutor {
    /// The runtime's hook: a job, and the enqueue it replaces.
    private typealias Hook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Call once, early in `main` (before anything uses NIO's shared loops), and only where no
    /// task blocks a thread for long (a blocked event loop also holds up the connections it
    /// serves). False if it was called before, or another hook was already set.
    ///
    /// It also makes the shared group one loop. A run's work is waiting on the network; with
    /// two loops a generation's reply, its Lua and the journal's answer kept waking each other
    /// across threads (7.8–8.5 thousand context switches per 1,000 generations against
    /// 3.4–4.2 thousand), about 8% of the run's CPU (README, Performance). Downloads are still
    /// written off the loop, on the file system's own thread, so a slow disk does not hold it up.
    @discardableResult
    public static func install() -> Bool {
        // NIO stops the process if the count is set twice, or after its loops have started:
        // once only, before the hook can start them.
        guard !called.exchange(true, ordering: .relaxed) else { return false }
        NIOSingletons.groupLoopCountSuggestion = 1
        return withUnsafeTemporaryAllocation(of: Hook.self, capacity: 1) { hook in
            hook.baseAddress!.initialize(to: { job, _ in runOnTheLoop(job) })
            return hook.baseAddress!.withMemoryRebound(to: UnsafeRawPointer.self, capacity: 1) {
                reel_install_global_enqueue_hook($0.pointee)
            }
        }
    }

    private static let called = Atomic<Bool>(false)
}

/// Runs a job as the default global executor does, on the generic executor, but on the
/// loop's thread. Not NIO's `executor.enqueue`, which runs it isolated to the loop as a
/// serial executor: then every nonisolated async function it called hopped back onto the
/// loop through the hook first, 160 needless trips per generation.
private func runOnTheLoop(_ job: UnownedJob) {
    let job = PendingJob(job: job)
    theLoop.execute { job.job.runSynchronously(on: genericExecutor) }
}

/// A job handed to the loop's thread, run there once.
private struct PendingJob: @unchecked Sendable {
    let job: UnownedJob
}

/// The one loop (`install` makes the group one loop).
private let theLoop = MultiThreadedEventLoopGroup.singleton.any()

/// The generic executor, no isolation: the runtime's executor reference with a null
/// identity, which no public API spells (the stdlib's own global executor passes it).
private let genericExecutor = unsafeBitCast((UInt(0), UInt(0)), to: UnownedSerialExecutor.self)
