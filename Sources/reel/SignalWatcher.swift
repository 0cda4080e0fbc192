import CStopSignals
import Dispatch
import Foundation
import Synchronization

/// Calls `handler` with the count of stop signals so far: Ctrl-C (SIGINT), SIGTERM, and
/// SIGHUP (the terminal closed, an SSH session dropped) all ask for the same orderly stop.
/// Stop signals come through a pipe that a C handler writes (`CStopSignals`), so none is lost
/// whichever thread the kernel hands it to; Dispatch's own signal sources lost some under load.
/// With `jobControl`, Ctrl-Z (SIGTSTP) first calls `suspend` and then stops the process, and
/// SIGCONT (`fg`) calls `resume`: a live display clears itself before the shell takes the
/// terminal and draws anew after. Dispatch sources are thread-safe; they are only created
/// here and cancelled once.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceProtocol]
    private let catchesJobControl: Bool

    init(jobControl: (suspend: @Sendable () -> Void, resume: @Sendable () -> Void)? = nil, _ handler: @escaping @Sendable (Int) -> Void) {
        let queue = DispatchQueue(label: "reel.signals")
        let counter = Counter()
        var sources: [any DispatchSourceProtocol] = []
        if let pipe = Self.stopPipe {
            let stops = DispatchSource.makeReadSource(fileDescriptor: pipe.read, queue: queue)
            stops.setEventHandler {
                var numbers = [UInt8](repeating: 0, count: 16)
                while true {
                    let count = Foundation.read(pipe.read, &numbers, numbers.count)
                    guard count > 0 else { break }
                    for _ in 0..<count { handler(counter.increment()) }
                }
            }
            stops.resume()
            sources.append(stops)
            // Caught from here on: the handler only writes, so it is in place before this returns.
            for number in [SIGINT, SIGTERM, SIGHUP] where !Self.startedIgnored.contains(number) {
                reel_forward_stop_signal(number, pipe.write)
            }
        }
        if let jobControl {
            let armed = DispatchGroup()
            sources.append(Self.source(SIGTSTP, queue, armed) {
                jobControl.suspend()
                kill(getpid(), SIGSTOP)  // what Ctrl-Z would have done
            })
            // Ignoring SIGCONT does not keep it from continuing the process; it only routes it here.
            sources.append(Self.source(SIGCONT, queue, armed, jobControl.resume))
            // Each source is registered by Dispatch's own thread, later; return once it is.
            _ = armed.wait(timeout: .now() + 2)
        }
        self.sources = sources
        catchesJobControl = jobControl != nil
    }

    /// One pipe for the process (the C handler keeps its write end): both ends close on exec,
    /// and neither blocks (a full pipe drops a stop signal past the first few thousand).
    private static let stopPipe: (read: Int32, write: Int32)? = {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return nil }
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
        return (ends[0], ends[1])
    }()

    /// The stop signals this process was started ignoring, left ignored as whoever started it
    /// asked: `nohup reel run …` must outlive the SSH session it was started from (SIGHUP),
    /// and a shell script's `reel run … &` is not meant to be stopped by Ctrl-C (SIGINT).
    /// Read once, before any watcher sets these signals itself.
    static let startedIgnored: Set<Int32> = Set([SIGINT, SIGTERM, SIGHUP].filter { number in
        var current = sigaction()
        guard sigaction(number, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    })

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
