import Foundation

/// A process as the journal names the owner of a claim, and a temporary file its writer: its pid and its start time, so a
/// pid reused by an unrelated process after a crash is not mistaken for the owner.
public struct ProcessIdentity: Sendable, Equatable {
    public var pid: Int32
    /// The start time in clock ticks since boot (`/proc/PID/stat`, field 22); empty where
    /// there is no /proc, and then the pid alone is compared.
    public var start: String

    public init(pid: Int32, start: String) {
        self.pid = pid
        self.start = start
    }

    public static let current = ProcessIdentity(pid: getpid(), start: startTime(of: getpid()) ?? "")

    /// Whether this process is still running (and is the same process, not a reused pid).
    public var isAlive: Bool {
        if self == Self.current { return true }
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard !start.isEmpty, let now = Self.startTime(of: pid) else { return true }
        return now == start
    }

    static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")  // the command name may hold spaces and parentheses
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: state is field 3, so start time (field 22) is the 20th here.
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
