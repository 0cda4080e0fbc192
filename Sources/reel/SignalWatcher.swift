import Dispatch
import Foundation

/// Calls `handler` with the count of stop signals so far: Ctrl-C (SIGINT), SIGTERM, and
/// SIGHUP (the terminal closed, an SSH session dropped) all ask for the same orderly stop.
/// Dispatch sources are thread-safe; they are only created here and cancelled once.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable (Int) -> Void) {
        let queue = DispatchQueue(label: "reel.signals")
        let counter = Counter()
        sources = [SIGINT, SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(counter.increment()) }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }

    private final class Counter: @unchecked Sendable {
        private var value = 0
        func increment() -> Int {  // only ever called on the one serial queue
            value += 1
            return value
        }
    }
}
