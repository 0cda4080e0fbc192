import Dispatch
import Foundation

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
        var sources = [SIGINT, SIGTERM, SIGHUP].filter { !Self.startedIgnored.contains($0) }.map { number in
            Self.source(number, queue) { handler(counter.increment()) }
        }
        if let jobControl {
            sources.append(Self.source(SIGTSTP, queue) {
                jobControl.suspend()
                kill(getpid(), SIGSTOP)  // what Ctrl-Z would have done
            })
            // Ignoring SIGCONT does not keep it from continuing the process; it only routes it here.
            sources.append(Self.source(SIGCONT, queue, jobControl.resume))
        }
        self.sources = sources
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

    private static func source(_ number: Int32, _ queue: DispatchQueue, _ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler(handler: handler)
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
