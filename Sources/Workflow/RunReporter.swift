import Foundation

/// Where a run's messages go: the script's `log()`, warnings, and (for live runs) task
/// progress. Standard output is kept for results (the plan, the summary).
public protocol RunReporter: Sendable {
    func log(_ line: String)
    func warning(_ line: String)
}

/// Passes messages on and counts the warnings (for `reel check`'s verdict).
public final class CountingReporter: RunReporter, @unchecked Sendable {
    private let inner: any RunReporter
    private let lock = NSLock()
    private var count = 0

    public init(_ inner: any RunReporter) { self.inner = inner }

    public var warnings: Int { lock.withLock { count } }

    public func log(_ line: String) { inner.log(line) }

    public func warning(_ line: String) {
        lock.withLock { count += 1 }
        inner.warning(line)
    }
}
