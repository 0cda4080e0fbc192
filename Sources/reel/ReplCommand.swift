import ArgumentParser
import Console
import Foundation
import Support
import Synchronization
import LuaRuntime
import VideoAPI
import Workflow

struct ReplCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        _superCommandName: "reel",
        abstract: "Type Lua with reel's functions and see each result at once.",
        discussion: """
            Every function of a script is here (text_to_video, extend, map, …). An expression's value is printed (a Video shows its id, status, URL and file); a statement runs. A line that is not finished (an open function, table or string) continues on the next. Errors are printed, naming the entry (repl:LINE), and the session goes on. Globals persist; `local`s last one entry, as in lua(1).

            Keys (libedit's emacs keys): Tab completes functions, option names inside { }, a Video's fields after `.` and model names inside model = "…" (twice lists them). ←/→, Home/End (Ctrl-A/E), Alt-b/Alt-f by word, Ctrl-W deletes a word, Ctrl-U/Ctrl-K to the start/end, ↑/↓ recall earlier entries (kept in the journal folder across sessions, a multi-line entry whole), Ctrl-R searches them as you type, Ctrl-L clears the screen, Ctrl-D on an empty line quits.

            Ctrl-C during a generation detaches from it: it keeps running on the gateway and in the journal, tasks() lists it, and typing the same call again picks it up instead of paying again. At the prompt, Ctrl-C drops the line.

            --max-seconds and --max-cost cap the whole session, as they cap a run; budget{ seconds = N } lowers the cap and budget() says what is used.

            Without REEL_BASE_URL the built-in simulator answers, as for `reel run`.
            """
    )

    @OptionGroup var output: OutputOptions

    @OptionGroup var model: ModelOptions

    @Flag(name: .customLong("dry-run"), help: "Validate only: every call returns a placeholder Video; nothing is sent.")
    var dryRun = false

    @OptionGroup var live: LiveSetup

    /// `--max-seconds`, `--max-cost`, prices: as for `run`, one cap for the whole session.
    @OptionGroup var limits: BudgetOptions

    func run() async throws {
        let modelName = try model.resolved()
        var options = WorkflowOptions(scriptPath: "repl", outputDirectory: output.directory, baseModel: modelName)
        // One budget for the session: every entry's generations reserve against it, and
        // `budget{}` lowers (and `budget()` reads) this same one.
        options.budget = try await limits.budget(showsMoney: false)
        // Plain lines at the prompt; the live view (as in runs) while an entry runs.
        let display = ProgressDisplay(style: .lines)
        let liveView = ProgressDisplay.style(quiet: false) == .live
        let connection = try live.connection()
        if !dryRun { for line in live.announcement(connection, subject: "this session", out: output.explicitDirectory) { display.log(line) } }
        let liveSession = dryRun ? nil : LiveSession { [live, connection, options] in
            try await live.start(connection, script: "(repl)", outputDirectory: options.outputDirectory, display: display,
                                 budget: options.budget)
        }
        let repl = ReplGenerator(liveSession ?? DryRunGenerator(budget: options.budget))
        let generator: any VideoGenerator = repl
        let session: WorkflowSession
        do {
            session = try WorkflowSession(options, directory: FileManager.default.currentDirectoryPath, generator: generator, reporter: display)
        } catch {
            printError("reel repl: \(error.message)")
            throw ExitCode(ReelExit.scriptError)
        }
        session.register("tasks") { repl.inFlight() }
        let editor = LineEditor(historyPath: (live.stateDirectory as NSString).appendingPathComponent("repl_history"))
        editor.completer = ReplCompletion.complete
        if editor.isTerminal {
            print("reel repl — Lua with reel's functions\(dryRun ? " (dry run: nothing is sent)" : ""). Ctrl-D quits.")
        }

        let current = RunningChunk()
        let signals = SignalWatcher { _ in current.cancel() }
        defer { signals.cancel() }
        var pending = ""
        while true {
            switch editor.read(prompt: pending.isEmpty ? "reel> " : "  ... ", interrupted: current.takeIdleInterrupt) {
            case .end:
                editor.restore()
                await finish(liveSession)
                return
            case .interrupt:
                pending = ""
                continue
            case .line(let line):
                pending += (pending.isEmpty ? "" : "\n") + line
            }
            if pending.trimmingCharacters(in: .whitespaces).isEmpty { pending = ""; continue }
            // An expression prints its value; otherwise the entry runs as statements.
            var source = "return " + pending
            if session.completeness(of: source, chunkName: "=repl") != .complete {
                switch session.completeness(of: pending, chunkName: "=repl") {
                case .complete: source = pending
                case .incomplete: continue
                case .error(let message):
                    printError("error: \(message)")
                    editor.remember(pending)
                    pending = ""
                    continue
                }
            }
            editor.remember(pending)
            pending = ""
            let work = Task { [session] () async -> Result<[LuaValue], LuaScriptError> in
                do throws(LuaScriptError) {
                    return .success(try await session.run(source, chunkName: "=repl"))
                } catch {
                    return .failure(error)
                }
            }
            current.set(work)
            if liveView { display.switchStyle(to: .live) }
            let result = await work.value
            current.set(nil)
            editor.takeKeys()
            if liveView { display.switchStyle(to: .lines) }
            switch result {
            case .success(let values) where !values.isEmpty:
                print(TerminalText.escaped(values.map(WorkflowSession.describe).joined(separator: "\t"), keepingLineBreaks: true))
            case .success:
                break
            case .failure(let error):
                printError(error.stopReason == .interrupted ? "interrupted" : "error: \(error.message)")
            }
            for label in repl.takeDetachedNotice() {
                printError("detached from \(TerminalText.escaped(label)): it keeps running on the gateway and in the journal; type the same call again to pick it up (not pay again), tasks() lists what is in flight")
            }
        }
    }

    /// Closes the session's journal run first (what matters), then its client and simulator,
    /// giving those a few seconds: leaving the REPL must never hang on a slow shutdown.
    private func finish(_ session: LiveSession?) async {
        guard let parts = await session?.settled() else { return }
        try? parts.journal.finishRun(parts.runID, outcome: .done)
        // Whichever ends first: the shutdown, or five seconds. Past them the REPL stops waiting
        // and leaves the shutdown to the process's end, rather than cancelling it halfway.
        let shutdown = Task { () async throws in
            await parts.client.shutdown()
            await parts.simulator?.stop()
        }
        _ = try? await withTimeout(.seconds(5)) { await ReplGenerator.wait(for: shutdown) }
    }

}

/// The entry running now, so Ctrl-C can stop it without leaving the REPL.
final class RunningChunk: Sendable {
    private struct State {
        var task: Task<Result<[LuaValue], LuaScriptError>, Never>?
        /// Ctrl-C came between two entries, before the editor took the terminal back.
        var idleInterrupt = false
    }
    private let state = Mutex(State())

    func set(_ task: Task<Result<[LuaValue], LuaScriptError>, Never>?) { state.withLock { $0.task = task } }

    /// Ctrl-C: stops the entry running, or (between entries) drops the line being typed.
    func cancel() {
        state.withLock { state in
            if let task = state.task { task.cancel() } else { state.idleInterrupt = true }
        }
    }

    /// Whether a Ctrl-C came between entries (and forgets it).
    func takeIdleInterrupt() -> Bool {
        state.withLock { state in
            defer { state.idleInterrupt = false }
            return state.idleInterrupt
        }
    }
}
