import CStopSignals
import Dispatch
import Foundation
import Synchronization

/// Calls `handler` with the count of stop signals so far: Ctrl-C (SIGINT), SIGTERM, and
/// SIGHUP (the terminal closed, an SSH session dropped) all ask for the same orderly stop.
/// Stop signals come through a pipe that a C handler writes (`CStopSignals`) and a thread of
/// reel's own reads, so none is lost whichever thread the kernel hands it to; Dispatch's
/// signal and read sources lost some under load.
/// With `jobControl`, Ctrl-Z (SIGTSTP) first calls `suspend` and then stops the process, and
/// SIGCONT (`fg`) calls `resume`: a live display clears itself before the shell takes the
/// terminal and draws anew after. Dispatch sources are thread-safe; they are only created
/// here and cancelled once.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceProtocol]
    private let catchesJobControl: Bool

    init(jobControl: (suspend: @Sendable () -> Void, resume: @Sendable () -> Void)? = nil, _ handler: @escaping @Sendable (Int) -> Void) {
        var sources: [any DispatchSourceProtocol] = []
        if let reader = Self.stopReader {
            let counter = Mutex(0)
            reader.handler.withLock { $0 = { handler(counter.withLock { count in count += 1; return count }) } }
            // Caught from here on: the handler only writes, so it is in place before this returns.
            for number in Self.watched { reel_forward_stop_signal(number, reader.write) }
        }
        if let jobControl {
            let queue = DispatchQueue(label: "reel.job-control")
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

    /// The stop signals watched: those this process was not started ignoring.
    private static var watched: [Int32] { [SIGINT, SIGTERM, SIGHUP].filter { !startedIgnored.contains($0) } }

    /// One pipe and one thread for the process. The C handler keeps the pipe's write end, which
    /// never blocks (a full pipe drops a stop past the first few thousand); a thread of reel's
    /// own waits on the read end and calls the watcher armed now. Not a Dispatch read source:
    /// in the full test suite, with the machine loaded, one was never called in the seconds the
    /// run had left, and the run paid on. Both ends close on exec.
    private static let stopReader: StopPipeReader? = StopPipeReader()

    private final class StopPipeReader: Sendable {
        let write: Int32
        let handler = Mutex<(@Sendable () -> Void)?>(nil)

        init?() {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { return nil }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
            write = ends[1]
            let read = ends[0]
            let thread = Thread { [self] in
                var numbers = [UInt8](repeating: 0, count: 16)
                while true {
                    let count = Foundation.read(read, &numbers, numbers.count)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { return }
                    for _ in 0..<count { self.handler.withLock { $0 }?() }
                }
            }
            thread.name = "reel.stop-signals"
            thread.start()
        }
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

    /// Unblocks the stop and job-control signals in the calling thread, first thing, so every
    /// thread reel starts inherits them unblocked. A blocked mask is inherited across exec: a
    /// parent that spawns reel from one of Dispatch's pool threads (Swift Testing does; so may
    /// any Swift or Dispatch program) hands it every signal blocked, and then a SIGTERM could
    /// wait unread while the run went on paying. Whether one is ignored stays as given.
    static func acceptStopSignals() {
        var accepted = sigset_t()
        sigemptyset(&accepted)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGCONT] { sigaddset(&accepted, number) }
        pthread_sigmask(SIG_UNBLOCK, &accepted, nil)
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
        // A stop after this (a run writing its gallery, the REPL saying goodbye) stops the
        // process the usual way instead of reaching a watcher nobody reads any more.
        if let reader = Self.stopReader {
            reader.handler.withLock { $0 = nil }
            for number in Self.watched { signal(number, SIG_DFL) }
        }
        // Ctrl-Z stops the process again by itself once there is no live block to clear.
        if catchesJobControl {
            signal(SIGTSTP, SIG_DFL)
            signal(SIGCONT, SIG_DFL)
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
