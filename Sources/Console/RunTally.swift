import Foundation
import Support
import VideoAPI
import Workflow

/// What a run has come to so far: takes saved, reused, failed and interrupted, the files
/// written, and the money and seconds spent, saved and maybe billed, for the live block's
/// footer and the closing summary.
struct RunTally {
    var succeeded = 0
    var failed = 0
    var reused = 0
    /// Saved videos whose tasks an earlier run submitted (and paid for).
    var resumedAndSaved = 0
    var interrupted = 0
    /// Each failed take with its label and reason, for the summary.
    var failures: [String] = []
    var secondsOfVideo: Int64 = 0
    /// Money and seconds: what this run submitted (paid for), what it reused (saved), and the
    /// plan the script's dry pass predicted, in the prices set.
    var prices = Prices()
    var planned: Prices.Amount?
    /// False on the built-in simulator: its takes are counted in seconds, never as money spent.
    var billed = true
    var spent = Prices.Amount()
    var saved = Prices.Amount()
    /// Submissions sent whose answer was lost: the gateway may have created (and billed) them.
    var unknown = Prices.Amount()
    var files: [String] = []
    /// Films and seam sheets, for the summary: what a person opens first.
    var madeMedia: [(what: String, path: String)] = []
    var bytes: Int64 = 0

    /// Counts `event`, which `take` has already taken in.
    mutating func record(_ event: TaskEvent, of take: LiveTake) {
        switch event {
        case .submitted:
            // The gateway bills a task when it creates it: spent, whatever happens next.
            spent.add(take.seconds, take.cost)
        case .reused(_, let path):
            reused += 1
            saved.add(take.seconds, take.cost)
            files.append(path)
            bytes += (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        case .saved(let path, let size):
            succeeded += 1
            if take.resumed { resumedAndSaved += 1 }
            secondsOfVideo += take.seconds
            files.append(path)
            bytes += size
        case .failed(let error):
            // Sent, but the answer was lost: not counted as spent, and not as nothing either.
            if error.submissionOutcomeUnknown && take.id == nil { unknown.add(take.seconds, take.cost) }
            // Stopped by Ctrl-C (or a signal) is not a failure of the generation.
            if error.code == .cancelled {
                interrupted += 1
            } else {
                failed += 1
                failures.append(TerminalText.escaped("[\(take.number)] \(take.label): \(error.code.rawValue): \(error.message)"))
            }
        case .polled, .resumed, .downloading, .waiting:
            break
        }
    }

    /// "spent 24 s (2.40 USD) of 24 s (2.40 USD) planned; saved 8 s (0.80 USD) by reusing"; nil
    /// before anything was spent, saved or planned. On the built-in simulator: "simulated 24 s
    /// of 24 s planned; reused 8 s (built-in simulator: nothing billed)".
    var spendingLine: String? {
        guard planned != nil || spent.seconds > 0 || saved.seconds > 0 || unknown.seconds > 0 else { return nil }
        func amount(_ a: Prices.Amount) -> String {
            prices.isEmpty ? "\(a.seconds) s" : "\(a.seconds) s (\(a.cost.map(prices.format) ?? "no price for some models"))"
        }
        var text = "\(billed ? "spent" : "simulated") \(amount(spent))"
        if let planned { text += " of \(amount(planned)) planned" }
        if unknown.seconds > 0 { text += "; \(amount(unknown)) more may have been \(billed ? "billed" : "created") (outcome unknown)" }
        if saved.seconds > 0 { text += billed ? "; saved \(amount(saved)) by reusing earlier takes" : "; reused \(amount(saved)) of earlier takes" }
        if !billed { text += " (built-in simulator: nothing billed)" }
        return text
    }

    /// The closing summary: tasks, seconds of video, files.
    var summary: String {
        var text = "\(succeeded) video\(succeeded == 1 ? "" : "s") generated (\(secondsOfVideo) s of video)"
        // Else "6 generated" beside "Spent 8 s" reads as a miscount after an interrupted run.
        if resumedAndSaved > 0 {
            let which = resumedAndSaved < succeeded ? "\(resumedAndSaved) of them " : succeeded == 1 ? "" : "all "
            text += ", \(which)resumed from an earlier run (paid then)"
        }
        if reused > 0 { text += ", \(reused) reused (not paid again)" }
        if failed > 0 { text += ", \(failed) failed" }
        if interrupted > 0 { text += ", \(interrupted) interrupted" }
        if !files.isEmpty {
            let folders = Set(files.map { ($0 as NSString).deletingLastPathComponent })
            text += "; \(files.count) file\(files.count == 1 ? "" : "s") (\(Self.byteCount(bytes))) in \(TerminalText.escaped(folders.sorted().joined(separator: ", ")))"
        }
        for (what, path) in madeMedia { text += "\n\(what.prefix(1).uppercased() + what.dropFirst()): \(TerminalText.escaped(path))" }
        if let spendingLine { text += "\n" + spendingLine.prefix(1).uppercased() + spendingLine.dropFirst() }
        if !failures.isEmpty { text += "\nFailed:\n" + failures.sorted(by: Self.byTakeNumber).map { "  " + $0 }.joined(separator: "\n") }
        return text
    }

    static func byTakeNumber(_ a: String, _ b: String) -> Bool {
        func number(_ s: String) -> Int { Int(s.dropFirst().prefix { $0.isNumber }) ?? 0 }
        return number(a) < number(b)
    }

    /// "812 bytes", "82 KB", "3.4 MB": numbers, never "Zero KB".
    static func byteCount(_ bytes: Int64) -> String {
        if bytes < 1000 { return "\(bytes) byte\(bytes == 1 ? "" : "s")" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(bytes) / 1000
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return value < 10 ? "\((value * 10).rounded() / 10) \(units[unit])" : "\(Int(value.rounded())) \(units[unit])"
    }
}
