import Foundation
import Support
import VideoAPI
import Workflow

/// One take in flight as the display shows it, and what each of the generator's events
/// makes of it.
struct LiveTake {
    let number: Int
    let function: String
    /// What tells this take from the others: the script line, the prompt's start, the seed.
    let label: String
    let seconds: Int64
    /// Its price, with prices set (nil: no price for its model, or none set).
    let cost: Double?
    let started = Date()
    var id: String?
    var status = "submitting"
    var progress: Int?
    var finished = false
    var warnedUnknownStatus = false
    /// An earlier run's task, polled again: that run paid for it.
    var resumed = false

    /// Takes `event` in; returns a warning the user must see, if it brings one.
    mutating func apply(_ event: TaskEvent) -> String? {
        switch event {
        case .submitted(let id):
            self.id = id
            status = "submitted"
        case .polled(let snapshot):
            progress = snapshot.progress ?? progress
            status = snapshot.status?.description ?? "unknown"
            if case .unrecognized(let word) = snapshot.status, !warnedUnknownStatus {
                warnedUnknownStatus = true
                return TerminalText.escaped("task \(id ?? "?") reports status '\(word)', which reel does not know; treating it as running")
            }
        case .resumed(let id):
            self.id = id
            status = "resumed from the journal"
            resumed = true
        case .reused(let id, let path):
            self.id = id
            status = "reused \(path)"
            finished = true
        case .downloading:
            status = "downloading"
        case .waiting(let pid):
            status = "waiting for another reel run (pid \(pid)) that is generating the same request"
        case .saved(let path, _):
            status = "saved \(path)"
            finished = true
        case .failed(let error):
            status = "failed (\(error.code.rawValue)): \(error.message)"
            finished = true
        }
        return nil
    }

    /// The plain line that tells a change of status.
    var line: String {
        var line = "[\(number)] \(function) \(label)\(id.map { " " + $0 } ?? ""): \(status)\(progress.map { $0 > 0 && $0 < 100 && !finished ? " \($0)%" : "" } ?? "")"
        if finished { line += String(format: " (%.1f s)", Date().timeIntervalSince(started)) }
        return TerminalText.escaped(line)
    }

    /// Its line in the live block.
    var blockLine: LiveBlock.Line {
        let elapsed = Int(Date().timeIntervalSince(started))
        let progress = progress.map { " \($0)%" } ?? ""
        return LiveBlock.Line(head: "  [\(number)] \(function) ", label: label, tail: " \(id ?? "…") \(status)\(progress) \(elapsed)s")
    }
}
