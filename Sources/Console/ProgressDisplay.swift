import Foundation
import Support
import Synchronization
import VideoAPI
import Workflow

/// Shows a run as it goes. On a terminal: a live line per task in flight (mode, id,
/// status, progress, elapsed) under the script's log lines. Otherwise: one plain line per
/// state change. Either way, a summary at the end.
public final class ProgressDisplay: ProgressSink, RunReporter, Sendable {
    public enum Style: Sendable { case live, lines, quiet }

    /// Everything that changes, behind one lock: the takes shown, the tally, the block on
    /// screen and the style it is drawn in.
    private struct State {
        /// The REPL shows the live view while an entry runs and plain lines at its prompt
        /// (where a redrawn block would overwrite what is being typed).
        var style: Style
        var takes: [Int: LiveTake] = [:]
        var usedNumbers: Set<Int> = []
        /// The largest of them, kept so numbering a take stays O(1) with thousands in a run.
        var highestNumber = 0
        var tally = RunTally()
        var block = LiveBlock()
        var ticker: Task<Void, Never>?
        var longWaitsShown: [String: Date] = [:]

        mutating func clearBlock(on output: StandardStream) {
            guard style == .live else { return }
            block.clear(on: output)
        }

        mutating func drawBlock(on output: StandardStream) {
            guard style == .live else { return }
            block.draw(takes.values.sorted { $0.number < $1.number }, footer: tally.spendingLine, on: output)
        }

        /// Whether a long-wait notice is due: once per reason and second, not once per task
        /// in flight.
        mutating func noteLongWait(_ reason: String) -> Bool {
            let now = Date()
            if let last = longWaitsShown[reason], now.timeIntervalSince(last) < 1 { return false }
            longWaitsShown[reason] = now
            return true
        }
    }

    private let state: Mutex<State>
    private let verbose: Bool
    private let output: StandardStream
    private var style: Style { state.withLock { $0.style } }

    public init(style: Style, verbose: Bool = false, output: StandardStream = .error) {
        state = Mutex(State(style: style))
        self.verbose = verbose
        self.output = output
        if style == .live { startTicker() }
    }

    private func startTicker() {
        state.withLock { state in
            guard state.ticker == nil else { return }
            state.ticker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 250_000_000)
                    self?.redraw()
                }
            }
        }
    }

    /// Switches between the live view and plain lines (clearing the live block first).
    public func switchStyle(to style: Style) {
        let toLive = state.withLock { state -> Bool? in
            guard style != state.style else { return nil }
            if style != .live { state.clearBlock(on: output) }
            state.style = style
            return style == .live
        }
        if toLive == true { startTicker() }
    }

    deinit { state.withLock { $0.ticker?.cancel() } }

    /// `.live` on a terminal, `.lines` otherwise.
    public static func style(quiet: Bool) -> Style {
        if quiet { return .quiet }
        return isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb" ? .live : .lines
    }

    /// Prices to show spending in, and the plan to show it against (nil: no estimate, as for
    /// a script whose dry pass could not finish): what it plans to generate, the takes the
    /// journal holds being free. `billed`: false on the built-in simulator, which bills nothing.
    public func showSpending(prices: Prices, plan: Plan?, billed: Bool = true) {
        state.withLock { state in
            state.tally.prices = prices
            state.tally.billed = billed
            state.tally.planned = plan?.totalToGenerate(prices)
        }
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
            } else if delay >= Self.longWait, state.withLock({ $0.style != .quiet && $0.noteLongWait(reason) }) {
                print(TerminalText.escaped("reel: \(reason): the gateway asked to wait \(Int(delay.rounded())) s before retrying \(method) \(path)"))
            }
        }
    }

    /// Waits at least this long are shown without --verbose.
    static let longWait = 5.0

    // MARK: ProgressSink

    public func begin(_ request: GenerationRequest, callSite: String?, sequence: Int?) -> Int {
        let number = state.withLock { state in
            // Numbered in the order the script made the calls, not the order their tasks start;
            // a number already shown (another --each row's script) takes the next free one.
            let n = sequence.flatMap { state.usedNumbers.contains($0) ? nil : $0 } ?? (state.highestNumber + 1)
            state.usedNumbers.insert(n)
            state.highestNumber = max(state.highestNumber, n)
            state.takes[n] = LiveTake(number: n, function: request.mode.luaFunction, label: TakeLabel.make(request, callSite: callSite),
                                      seconds: request.plannedSeconds, cost: state.tally.prices.cost(of: request))
            return n
        }
        redraw()
        return number
    }

    public func update(_ task: Int, _ event: TaskEvent) {
        let (line, warning, style) = state.withLock { state -> (String?, String?, Style) in
            guard var take = state.takes[task] else { return (nil, nil, state.style) }
            let before = take.status
            let warning = take.apply(event)
            state.tally.record(event, of: take)
            // Made only to be shown: --quiet shows none.
            let line = take.status != before && state.style != .quiet ? take.line : nil
            state.takes[task] = take.finished ? nil : take
            return (line, warning, state.style)
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
        state.withLock { state in
            if case .concat = output.step { state.tally.madeMedia.append((what, path)) }
            if case .seams = output.step { state.tally.madeMedia.append((what, path)) }
        }
        let length = output.duration.map { String(format: ", %.1f s of video", $0) } ?? ""
        if style != .quiet {
            print(TerminalText.escaped("\(output.step.function): \(output.reused ? "reused" : "made") \(what) \(path)\(length)\(output.reused ? "" : String(format: " (%.1f s)", seconds))"))
        }
    }

    /// The closing summary: tasks, seconds of video, files.
    public func summary() -> String { state.withLock { $0.tally.summary } }

    /// Whether this is the redrawn live block (on a terminal).
    public var isLive: Bool { style == .live }

    /// Ctrl-Z: the shell is about to take the terminal. The live block is cleared and not
    /// drawn again until `resume`, so the shell's lines are not wiped by a later redraw that
    /// thinks the block is still just above the cursor.
    public func suspend() {
        state.withLock { state in
            state.clearBlock(on: output)
            state.block.suspended = true
        }
    }

    /// `fg`: drawn anew below whatever the shell wrote meanwhile.
    public func resume() {
        state.withLock { state in
            state.block.suspended = false
            state.block.forget()
        }
        redraw()
    }

    /// Stops the live display and clears its lines.
    public func finish() {
        state.withLock { state in
            state.ticker?.cancel()
            state.clearBlock(on: output)
        }
    }

    // MARK: Drawing

    /// A line above the live block: the block is erased, the line written, the block drawn again.
    private func print(_ line: String) {
        state.withLock { state in
            state.clearBlock(on: output)
            output.writeLine(TerminalText.escaped(line, keepingLineBreaks: true))
            state.drawBlock(on: output)
        }
    }

    private func redraw() {
        state.withLock { state in
            state.clearBlock(on: output)
            state.drawBlock(on: output)
        }
    }
}
