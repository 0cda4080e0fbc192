import ArgumentParser
import Foundation
import Simulator
import VideoAPI
import Workflow

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow script.",
        discussion: """
            With REEL_BASE_URL (or --base-url) set, requests go to that gateway with REEL_API_KEY.
            Without it, the run uses the built-in simulator and says so: nothing is billed.
            Every finished video is downloaded at once into --out (result URLs expire).

            Examples:
              reel run scripts/generate_then_extend.lua
              reel run scripts/prompt_sweep.lua subject=lighthouse --concurrency 8
              reel run --dry-run scripts/reference_images.lua
            """
    )

    @OptionGroup var script: ScriptOptions

    @Flag(name: .customLong("dry-run"), help: "Validate and print the plan; send nothing.")
    var dryRun = false

    @Flag(help: "Generate everything anew, even what the journal already holds.")
    var fresh = false

    @OptionGroup var live: LiveSetup

    var concurrency: Int { live.concurrency }
    var stateDirectory: String { live.stateDirectory }

    func run() async throws {
        let options = try workflowOptions()
        if dryRun {
            let generator = DryRunGenerator()
            let failures = try await script.execute(options, generator: generator, reporter: ProgressDisplay(style: script.quiet ? .quiet : .lines), concurrency: 1)
            if let code = script.report(failures) { throw code }
            print(Plan(requests: generator.requests, savedPaths: generator.savedPaths).rendered(), terminator: "")
            return
        }

        let connection = try live.connection()
        let display = ProgressDisplay(style: ProgressDisplay.style(quiet: script.quiet), verbose: script.verbose)
        let session = LiveSession { [live, connection] in
            try await live.start(connection, script: options.scriptPath, outputDirectory: options.outputDirectory, display: display)
        }

        let work = Task { [script, concurrency] in
            (try? await script.execute(options, generator: session, reporter: display, concurrency: concurrency)) ?? []
        }
        let signals = SignalWatcher { presses in
            if presses == 1 {
                display.log("reel: interrupted; submitting nothing more (press Ctrl-C again to quit at once)")
                session.stopSubmitting()
                work.cancel()
            } else {
                Foundation.exit(ReelExit.interrupted)
            }
        }
        let failures = await work.value
        let interrupted = work.isCancelled
        let parts = await session.settled()
        if interrupted { await parts?.generator.waitForSubmissionsInFlight(timeout: connection.client.requestTimeout) }
        signals.cancel()
        display.finish()
        await parts?.client.shutdown()
        await parts?.simulator?.stop()
        try await finishRun(parts: parts, display: display, interrupted: interrupted, failures: failures)
    }

    /// Records how the run ended, says so, and gives its exit code.
    func finishRun(parts: LiveSession.Parts?, display: ProgressDisplay, interrupted: Bool,
                   failures: [(row: Int?, failure: WorkflowFailure)]) async throws {
        if let parts {
            try? parts.journal.finishRun(parts.runID, outcome: interrupted ? "interrupted" : failures.isEmpty ? "done" : "failed")
        }
        if interrupted {
            let pending = parts.flatMap { try? $0.journal.tasks(runID: $0.runID) }?.filter { $0.state.isResumable }.count ?? 0
            printError(display.summary())
            printError(pending == 0
                ? "reel: interrupted. Run the same command again to continue; finished videos are reused, not bought again."
                : "reel: interrupted. \(pending) generation\(pending == 1 ? " is" : "s are") still running on the gateway and in the journal (\(stateDirectory)); run the same command again to pick \(pending == 1 ? "it" : "them") up without paying twice.")
            throw ExitCode(ReelExit.interrupted)
        }
        if !failures.isEmpty {
            if !script.quiet { printError(display.summary()) }
            if let code = script.report(failures) { throw code }
        }
        if !script.quiet { print(display.summary()) }
    }

    func workflowOptions() throws -> WorkflowOptions {
        var options = try script.workflowOptions()
        options.fresh = fresh
        return options
    }
}
