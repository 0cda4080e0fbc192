import Foundation
import Synchronization

/// Where a run's messages go: the script's `log()`, warnings, and (for live runs) task
/// progress. Standard output is kept for results (the plan, the summary).
public protocol RunReporter: Sendable {
    func log(_ line: String)
    func warning(_ line: String)
}

/// Passes messages on and counts the warnings (for `reel check`'s verdict).
public final class CountingReporter: RunReporter, Sendable {
    private let inner: any RunReporter
    private let count = Mutex(0)

    public init(_ inner: any RunReporter) { self.inner = inner }

    public var warnings: Int { count.withLock { $0 } }

    public func log(_ line: String) { inner.log(line) }

    public func warning(_ line: String) {
        count.withLock { $0 += 1 }
        inner.warning(line)
    }
}
