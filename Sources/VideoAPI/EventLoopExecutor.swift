import CExecutorHook
import NIOCore
import NIOPosix

/// Swift concurrency's global executor, run on NIO's event loops (the HTTP client's). Without
/// it every HTTP reply hops from an event-loop thread to a Dispatch thread to resume its task,
/// and back for the next request: a futex wake and a context switch each way, the largest
/// item of a generation's CPU after the kernel's file creation (README, Performance). This is
/// NIO's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`, with the
/// hook found by linking (CExecutorHook) instead of by name.
public enum EventLoopExecutor {
    /// The runtime's hook: a job, and the enqueue it replaces.
    private typealias Hook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Call once, early in `main`, and only where no task blocks a thread for long (a blocked
    /// event loop also holds up the connections it serves). False if a hook was already set.
    @discardableResult
    public static func install() -> Bool {
        withUnsafeTemporaryAllocation(of: Hook.self, capacity: 1) { hook in
            hook.baseAddress!.initialize(to: { job, _ in
                // `any()` is the current loop when called on one: no hop for a task that is
                // already on an event loop.
                MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(ExecutorJob(job))
            })
            return hook.baseAddress!.withMemoryRebound(to: UnsafeRawPointer.self, capacity: 1) {
                reel_install_global_enqueue_hook($0.pointee)
            }
        }
    }
}
