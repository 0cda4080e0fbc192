import Dispatch
import Foundation
import Synchronization

/// Calls `handler` with the count of stop signals so far: Ctrl-C (SIGINT), SIGTERM, and
/// SIGHUP (the terminal closed, an SSH session dropped) all ask for the same orderly stop.
/// With `jobControl`, Ctrl-Z (SIGTSTP) first calls `suspend` and then stops the process, and
/// SIGCONT (`fg`) calls `resume`: a live display clears itself before the shell takes the
/// terminal and draws anew after. Dispatch sources are thread-safe; they are only created
/// here and cancelled once.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let catchesJobControl: Bool

    init(jobControl: (suspend: @Sendable () -> Void, resume: @Sendable () -> Void)? = nil, _ handler: @escaping @Sendable (Int) -> Void) {
        let queue = DispatchQueue(label: "reel.signals")
        let counter = Counter()
        let armed = DispatchGroup()
        var sources = [SIGINT, SIGTERM, SIGHUP].filter { !Self.startedIgnored.contains($0) }.map { number in
            Self.source(number, queue, armed) { handler(counter.increment()) }
        }
        if let jobControl {
            sources.append(Self.source(SIGTSTP, queue, armed) {
                jobControl.suspend()
                kill(getpid(), SIGSTOP)  // what Ctrl-Z would have done
            })
            // Ignoring SIGCONT does not keep it from continuing the process; it only routes it here.
            sources.append(Self.source(SIGCONT, queue, armed, jobControl.resume))
        }
        self.sources = sources
        // Each source is registered by Dispatch's own thread, later; return only once it is,
        // so no stop sent after this returns can miss its handler.
        _ = armed.wait(timeout: .now() + 2)
        catchesJobControl = jobControl != nil
    }

    /// The stop signals this process was started ignoring, left ignored as whoever started it
    /// asked: `nohup reel run …` must outlive the SSH session it was started from (SIGHUP),
    /// and a shell script's `reel run … &` is not meant to be stopped by Ctrl-C (SIGINT).
    /// Read once, before any watcher sets these signals itself.
    static let startedIgnored: Set<Int32> = Set([SIGINT, SIGTERM, SIGHUP].filter { number in
        var current = sigaction()
        guard sigaction(number, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    })

    /// Blocks the stop signals in the calling thread; called first thing, every thread started
    /// later inherits the block. A stop signal then stays pending until the watcher's Dispatch
    /// source reads it (a signalfd on Linux). Unblocked, the kernel may hand it to any thread,
    /// where Dispatch's handler re-raises it at the one thread that registered the source — a
    /// thread of Dispatch's pool that, on a loaded machine, was seen never to read it: the stop
    /// was lost and the run paid on. A stop sent before the watcher exists waits for it too.
    /// Children (ffmpeg) start with a clean mask: swift-subprocess resets it.
    static func holdStopSignals() {
        var held = sigset_t()
        sigemptyset(&held)
        for number in [SIGINT, SIGTERM, SIGHUP] where !startedIgnored.contains(number) { sigaddset(&held, number) }
        pthread_sigmask(SIG_BLOCK, &held, nil)
    }

    private static func source(_ number: Int32, _ queue: DispatchQueue, _ armed: DispatchGroup,
                               _ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        #if !os(Linux)
        // kqueue only reports a signal whose default action would otherwise end the process.
        signal(number, SIG_IGN)
        #endif
        // On Linux, Dispatch installs its own handler when it registers the source; setting
        // SIG_IGN first would drop a signal sent before that, so the default action stands
        // until then (the watcher is armed before anything is sent).
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler(handler: handler)
        armed.enter()
        source.setRegistrationHandler { armed.leave() }
        source.resume()
        return source
    }

    func cancel() {
        for source in sources { source.cancel() }
        // Ctrl-Z stops the process again by itself once there is no live block to clear.
        if catchesJobControl {
            signal(SIGTSTP, SIG_DFL)
            signal(SIGCONT, SIG_DFL)
        }
    }

    private final class Counter: @unchecked Sendable {
        private var value = 0
        func increment() -> Int {  // only ever called on the one serial queue
            value += 1
            return value
        }
    }
}

/// A stop asked for by a signal, possibly before the work it stops exists: the action given
/// later runs at once if the stop came first, else when it comes (once either way).
final class StopRequest: Sendable {
    private let state = Mutex<(requested: Bool, action: (@Sendable () -> Void)?)>((false, nil))

    func request() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            state.requested = true
            return state.action
        }
        action?()
    }

    func whenRequested(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            state.action = action
            return state.requested
        }
        if now { action() }
    }
}
