import Foundation
import Synchronization

/// Standard output or error written with write(2), never through `FileHandle.write`, which
/// traps when the reader has gone (`reel run … | head -1`, a closed SSH session). A stream
/// whose reader is gone is marked closed and later writes are dropped: the run goes on and
/// keeps journaling, quietly.
public struct StandardStream: Sendable {
    public let descriptor: Int32

    public static let output = StandardStream(descriptor: STDOUT_FILENO)
    public static let error = StandardStream(descriptor: STDERR_FILENO)

    private static let closed = ClosedDescriptors()

    /// Call once at start-up: a write to a closed pipe then fails with EPIPE instead of
    /// killing the process with SIGPIPE.
    public static func ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

    /// Whether the stream's reader has gone away.
    public var isClosed: Bool { Self.closed.contains(descriptor) }

    public func write(_ text: String) {
        guard !isClosed else { return }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                bytes = bytes.dropFirst(written)
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                // EPIPE (pipe closed), EIO (terminal hung up), ENOSPC (a full log file)…
                Self.closed.insert(descriptor)
                return
            }
        }
    }

    public func writeLine(_ line: String) { write(line + "\n") }

    /// The terminal's rows and columns, when the stream is a terminal that says.
    public var terminalSize: (rows: Int, columns: Int)? {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 else { return nil }
        return (Int(size.ws_row), Int(size.ws_col))
    }

    private final class ClosedDescriptors: Sendable {
        private let set = Mutex<Set<Int32>>([])
        func contains(_ fd: Int32) -> Bool { set.withLock { $0.contains(fd) } }
        func insert(_ fd: Int32) { set.withLock { _ = $0.insert(fd) } }
    }
}
