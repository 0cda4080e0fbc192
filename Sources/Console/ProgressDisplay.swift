import Foundation
import Support
import Synchronization
import VideoAPI
import Workflow

/// Shows a run as it goes. On a terminal: a live line per task in flight (mode, id,
/// status, progress, elapsed) under the script's log lines. Otherwise: one plain line per
/// state change. Either way, a summary at the end.
public final class ProgressDisplay: ProgressSink, RunReporter, @unchecked Sendable {
    public enum Style: Sendable { case live, lines, quiet }

    private struct Row {
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
    }

    /// The style now: the REPL shows the live view while an entry runs and plain lines at
    /// its prompt (where a redrawn block would overwrite what is being typed).
    private let currentStyle: Mutex<Style>
    private var style: Style { currentStyle.withLock { $0 } }
    private let verbose: Bool
    private let lock = NSLock()
    private var rows: [Int: Row] = [:]
    private var renderedLines = 0
    /// Between Ctrl-Z and `fg`: the terminal is the shell's.
    private var suspended = false
    private var succeeded = 0
    private var failed = 0
    private var reused = 0
    /// Saved videos whose tasks an earlier run submitted (and paid for).
    private var resumedAndSaved = 0
    private var interrupted = 0
    /// Each failed take with its label and reason, for the summary.
    private var failures: [String] = []
    private var usedNumbers: Set<Int> = []
    /// The largest of them, kept so numbering a take stays O(1) with thousands in a run.
    private var highestNumber = 0
    private var secondsOfVideo: Int64 = 0
    /// Money and seconds: what this run submitted (paid for), what it reused (saved), and the
    /// plan the script's dry pass predicted, in the prices set.
    private var prices = Prices()
    private var planned: Prices.Amount?
    /// False on the built-in simulator: its takes are counted in seconds, never as money spent.
    private var billed = true
    private var spent = Prices.Amount()
    private var saved = Prices.Amount()
    /// Submissions sent whose answer was lost: the gateway may have created (and billed) them.
    private var unknown = Prices.Amount()
    private var files: [String] = []
    /// Films and seam sheets, for the summary: what a person opens first.
    private var madeMedia: [(what: String, path: String)] = []
    private var bytes: Int64 = 0
    private var ticker: Task<Void, Never>?
    private var longWaitsShown: [String: Date] = [:]
    private let output: StandardStream

    public init(style: Style, verbose: Bool = false, output: StandardStream = .error) {
        currentStyle = Mutex(style)
        self.verbose = verbose
        self.output = output
        if style == .live { startTicker() }
    }

    private func startTicker() {
        lock.withLock {
            guard ticker == nil else { return }
            ticker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 250_000_000)
                    self?.redraw()
                }
            }
        }
    }

    /// Switches between the live view and plain lines (clearing the live block first).
    public func switchStyle(to style: Style) {
        guard style != self.style else { return }
        if style != .live { lock.withLock { clearBlock() } }
        currentStyle.withLock { $0 = style }
        if style == .live { startTicker() } else { redraw() }
    }

    deinit { ticker?.cancel() }

    /// `.live` on a terminal, `.lines` otherwise.
    public static func style(quiet: Bool) -> Style {
        if quiet { return .quiet }
        return isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb" ? .live : .lines
    }

    /// Prices to show spending in, and the plan to show it against (nil: no estimate, as for
    /// a script whose dry pass could not finish): what it plans to generate, the takes the
    /// journal holds being free. `billed`: false on the built-in simulator, which bills nothing.
    public func showSpending(prices: Prices, plan: Plan?, billed: Bool = true) {
        lock.withLock {
            self.prices = prices
            self.billed = billed
            planned = plan?.totalToGenerate(prices)
        }
    }

    /// "spent 24 s (2.40 USD) of 24 s (2.40 USD) planned; saved 8 s (0.80 USD) by reusing"; nil
    /// before anything was spent, saved or planned. On the built-in simulator: "simulated 24 s
    /// of 24 s planned; reused 8 s (built-in simulator: nothing billed)".
    private var spendingLine: String? {
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

    // MARK: RunReporter

    public func log(_ line: String) { print(line) }

    public func warning(_ line: String) {
        if style != .quiet { print("warning: " + line) }
    }

    /// A line from the HTTP client: every exchange and retry with --verbose; without it, only
    /// what a user waiting at the screen must know: a long wait the gateway asked for.
    public func clientEvent(_ event: ClientEvent) {
        switch event {
        case .exchange(let method, let path, let status, let seconds, let note):
            guard verbose else { return }
            print(TerminalText.escaped("  \(method) \(path) → \(status.map(String.init) ?? "no reply")\(note.map { " (\($0))" } ?? "") \(String(format: "%.2f", seconds)) s"))
        case .retrying(let method, let path, let reason, let delay, let attempt):
            if verbose {
                print(TerminalText.escaped("  retrying \(method) \(path) in \(String(format: "%.1f", delay)) s (attempt \(attempt) failed: \(reason))"))
            } else if delay >= Self.longWait, style != .quiet, lock.withLock({ noteLongWait(reason) }) {
                print(TerminalText.escaped("reel: \(reason): the gateway asked to wait \(Int(delay.rounded())) s before retrying \(method) \(path)"))
            }
        }
    }

    /// Waits at least this long are shown without --verbose.
    static let longWait = 5.0

    /// Shows a long-wait notice once per reason and second, not once per task in flight.
    private func noteLongWait(_ reason: String) -> Bool {
        let now = Date()
        if let last = longWaitsShown[reason], now.timeIntervalSince(last) < 1 { return false }
        longWaitsShown[reason] = now
        return true
    }

    // MARK: ProgressSink

    public func begin(_ request: GenerationRequest, callSite: String?, sequence: Int?) -> Int {
        let number = lock.withLock {
            // Numbered in the order the script made the calls, not the order their tasks start;
            // a number already shown (another --each row's script) takes the next free one.
            let n = sequence.flatMap { usedNumbers.contains($0) ? nil : $0 } ?? (highestNumber + 1)
            usedNumbers.insert(n)
            highestNumber = max(highestNumber, n)
            rows[n] = Row(number: n, function: request.mode.luaFunction, label: TakeLabel.make(request, callSite: callSite),
                          seconds: request.plannedSeconds, cost: prices.cost(of: request))
            return n
        }
        redraw()
        return number
    }

    public func update(_ task: Int, _ event: TaskEvent) {
        var line: String?
        var warning: String?
        lock.withLock {
            guard var row = rows[task] else { return }
            let before = row.status
            switch event {
            case .submitted(let id):
                row.id = id
                row.status = "submitted"
                // The gateway bills a task when it creates it: spent, whatever happens next.
                spent.add(row.seconds, row.cost)
            case .polled(let snapshot):
                row.progress = snapshot.progress ?? row.progress
                row.status = snapshot.status?.description ?? "unknown"
                if case .unrecognized(let word) = snapshot.status, !row.warnedUnknownStatus {
                    row.warnedUnknownStatus = true
                    warning = TerminalText.escaped("task \(row.id ?? "?") reports status '\(word)', which reel does not know; treating it as running")
                }
            case .resumed(let id):
                row.id = id
                row.status = "resumed from the journal"
                row.resumed = true
            case .reused(let id, let path):
                row.id = id
                row.status = "reused \(path)"
                row.finished = true
                reused += 1
                saved.add(row.seconds, row.cost)
                files.append(path)
                bytes += (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
            case .downloading:
                row.status = "downloading"
            case .waiting(let pid):
                row.status = "waiting for another reel run (pid \(pid)) that is generating the same request"
            case .saved(let path, let size):
                row.status = "saved \(path)"
                row.finished = true
                succeeded += 1
                if row.resumed { resumedAndSaved += 1 }
                secondsOfVideo += row.seconds
                files.append(path)
                bytes += size
            case .failed(let error):
                row.status = "failed (\(error.code.rawValue)): \(error.message)"
                row.finished = true
                // Sent, but the answer was lost: not counted as spent, and not as nothing either.
                if error.submissionOutcomeUnknown && row.id == nil { unknown.add(row.seconds, row.cost) }
                // Stopped by Ctrl-C (or a signal) is not a failure of the generation.
                if error.code == .cancelled {
                    interrupted += 1
                } else {
                    failed += 1
                    failures.append(TerminalText.escaped("[\(row.number)] \(row.label): \(error.code.rawValue): \(error.message)"))
                }
            }
            // Made only to be shown: --quiet shows none.
            if row.status != before && style != .quiet {
                line = "[\(row.number)] \(row.function) \(row.label)\(row.id.map { " " + $0 } ?? ""): \(row.status)\(row.progress.map { $0 > 0 && $0 < 100 && !row.finished ? " \($0)%" : "" } ?? "")"
                if row.finished { line! += String(format: " (%.1f s)", Date().timeIntervalSince(row.started)) }
                line = TerminalText.escaped(line!)
            }
            if row.finished { rows[task] = nil } else { rows[task] = row }
        }
        if let warning { self.warning(warning) }
        // Plain lines show every change; the live view keeps a failure on screen above it.
        if let line, style == .lines || (style == .live && line.contains(": failed (") && !line.contains("(cancelled)")) { print(line) }
        redraw()
    }

    public func made(_ output: MediaOutput, seconds: Double) {
        guard let path = output.path else { return }
        let what = switch output.step {
        case .concat: "film"
        case .seams: "seam sheet"
        case .trim: "trimmed clip"
        case .lastFrame: "last frame"
        case .frame: "frame"
        }
        lock.withLock {
            if case .concat = output.step { madeMedia.append((what, path)) }
            if case .seams = output.step { madeMedia.append((what, path)) }
        }
        let length = output.duration.map { String(format: ", %.1f s of video", $0) } ?? ""
        if style != .quiet {
            print(TerminalText.escaped("\(output.step.function): \(output.reused ? "reused" : "made") \(what) \(path)\(length)\(output.reused ? "" : String(format: " (%.1f s)", seconds))"))
        }
    }

    /// The closing summary: tasks, seconds of video, files.
    public func summary() -> String {
        lock.withLock {
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

    /// Whether this is the redrawn live block (on a terminal).
    public var isLive: Bool { style == .live }

    /// Ctrl-Z: the shell is about to take the terminal. The live block is cleared and not
    /// drawn again until `resume`, so the shell's lines are not wiped by a later redraw that
    /// thinks the block is still just above the cursor.
    public func suspend() {
        lock.withLock {
            clearBlock()
            suspended = true
        }
    }

    /// `fg`: drawn anew below whatever the shell wrote meanwhile.
    public func resume() {
        lock.withLock {
            suspended = false
            renderedLines = 0
        }
        redraw()
    }

    /// Stops the live display and clears its lines.
    public func finish() {
        ticker?.cancel()
        lock.withLock { clearBlock() }
    }

    // MARK: Drawing

    private func print(_ line: String) {
        lock.withLock {
            clearBlock()
            output.writeLine(TerminalText.escaped(line, keepingLineBreaks: true))
            drawBlock()
        }
    }

    private func redraw() {
        guard style == .live else { return }
        lock.withLock {
            clearBlock()
            drawBlock()
        }
    }

    private func clearBlock() {
        guard style == .live, renderedLines > 0 else { return }
        output.write("\u{1B}[\(renderedLines)A\u{1B}[J")
        renderedLines = 0
    }

    private func drawBlock() {
        guard style == .live, !suspended, !rows.isEmpty else { return }
        let shown = rows.values.sorted { $0.number < $1.number }
        let lines = Self.block(shown.prefix(Self.mostTakesShown).map { row in
            let elapsed = Int(Date().timeIntervalSince(row.started))
            let progress = row.progress.map { " \($0)%" } ?? ""
            return BlockLine(head: "  [\(row.number)] \(row.function) ", label: row.label,
                             tail: " \(row.id ?? "…") \(row.status)\(progress) \(elapsed)s")
        }, of: shown.count, footer: spendingLine.map { [BlockLine(head: "  " + $0)] } ?? [],
           terminal: output.terminalSize ?? (rows: 24, columns: 80))
        output.write(lines.map { $0 + "\n" }.joined())
        renderedLines = lines.count
    }

    static let mostTakesShown = 20

    /// A line of the live block: when the terminal is narrow the label gives way first, so
    /// the number and the status stay in sight.
    struct BlockLine {
        var head: String
        var label = ""
        var tail = ""
    }

    /// The live block's lines as they fit the terminal: each within its width and all of them
    /// below its height (the first takes of `total`, then "… and N more"). A line that wrapped,
    /// or a block taller than the screen, would leave the next redraw's cursor-up short, and
    /// every redraw would smear a copy of the block above it.
    static func block(_ takes: [BlockLine], of total: Int, footer: [BlockLine], terminal: (rows: Int, columns: Int)) -> [String] {
        // The cursor's own line stays free, and the top line too: erasing from there would be
        // erasing the whole screen, which tmux (scroll-on-clear) first copies into history.
        let room = max(1, terminal.rows - 2)
        var limit = max(0, min(takes.count, room - footer.count))
        // The line that counts the rest needs a place of its own.
        if total > limit && limit + 1 + footer.count > room { limit = max(0, limit - 1) }
        var lines = Array(takes.prefix(limit))
        if total > limit {
            lines.append(BlockLine(head: limit == 0 ? "  \(total) generations in flight" : "  … and \(total - limit) more"))
        }
        lines += footer
        return lines.suffix(room).map { fitted($0, columns: terminal.columns - 1) }
    }

    /// `line` within `columns` terminal cells: its label cut first, then its end; controls
    /// (a prompt's newline, a gateway's escape sequence) shown as escapes.
    static func fitted(_ line: BlockLine, columns: Int) -> String {
        let line = BlockLine(head: TerminalText.escaped(line.head), label: TerminalText.escaped(line.label), tail: TerminalText.escaped(line.tail))
        let forLabel = columns - cells(line.head) - cells(line.tail)
        if cells(line.label) <= forLabel { return cut(line.head + line.label + line.tail, columns: columns) }
        if forLabel >= 6 { return cut(line.head + cut(line.label, columns: forLabel) + line.tail, columns: columns) }
        return cut(line.head + line.tail, columns: columns)
    }

    /// `text` cut to `columns` terminal cells (wide characters take two), ending in "…" when
    /// cut.
    static func cut(_ text: String, columns: Int) -> String {
        var result = ""
        var used = 0
        for character in text {
            let width = cellWidth(character)
            if used + width > columns {
                while used + 1 > columns, let last = result.popLast() { used -= cellWidth(last) }
                return result + "…"
            }
            result.append(character)
            used += width
        }
        return result
    }

    private static func cells(_ text: String) -> Int { text.reduce(0) { $0 + cellWidth($1) } }

    /// Terminal cells a character takes: two for East Asian wide characters and emoji.
    private static func cellWidth(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first?.value else { return 0 }
        switch scalar {
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}
