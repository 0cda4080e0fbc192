import ArgumentParser
import Console
import Foundation
import Gallery
import Simulator
import Support
import VideoAPI
import Workflow

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        _superCommandName: "reel",
        abstract: "Run a workflow script.",
        discussion: """
            With REEL_BASE_URL (or --base-url) set, requests go to that gateway with REEL_API_KEY. Without it, the run uses the built-in simulator and says so: nothing is billed. Every finished video is downloaded at once into --out (result URLs expire).

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

    @Flag(name: .customLong("no-gallery"), help: "Do not write --out/gallery.html at the end (reel gallery can write it later).")
    var noGallery = false

    @OptionGroup var live: LiveSetup

    var concurrency: Int { live.concurrency }
    var stateDirectory: String { live.stateDirectory }

    func run() async throws {
        Project.search(fromScript: script.script)
        let options = try await workflowOptions()
        if dryRun {
            for line in live.dryAnnouncement(subject: "a dry run", out: script.output.explicitDirectory) { print(TerminalText.escaped(line)) }
            var options = options
            options.reportEveryInvalidCall = true
            let generator = DryRunGenerator(budget: options.budget, holdings: RunEstimate.holdings(live))
            let failures = try await script.execute(options, generator: generator, reporter: ProgressDisplay(style: script.quiet ? .quiet : .lines), concurrency: 1)
            if let code = script.report(failures) { throw code }
            print(generator.plan.rendered(prices: options.budget.prices), terminator: "")
            return
        }

        let connection = try live.connection()
        // Before anything is paid for: the results must have somewhere to go.
        if let problem = OutputFolder.problem(options.outputDirectory) {
            printError("reel: \(problem)")
            throw ExitCode(ReelExit.usage)
        }
        let display = ProgressDisplay(style: ProgressDisplay.style(quiet: script.quiet), verbose: script.verbose)
        for line in live.announcement(connection, subject: "this run", out: script.output.explicitDirectory) { display.log(line) }
        let session = LiveSession { [live, connection] in
            try await live.start(connection, script: options.scriptPath, arguments: runArguments, outputDirectory: options.outputDirectory,
                                 display: display, budget: options.budget, fresh: fresh)
        }

        // The plan counts what the journal holds (reused, free) apart from what is to be paid for.
        let holdings = script.quiet ? nil : RunEstimate.holdings(live)
        let billed = connection.simulator == nil
        // The watcher is armed before the script starts: a loaded machine can run the script's
        // first POSTs before this thread gets further, and a stop sent then was lost.
        let stop = StopRequest()
        let jobControl = display.isLive ? (suspend: display.suspend, resume: display.resume) : nil
        let signals = SignalWatcher(jobControl: jobControl) { presses in
            if presses == 1 {
                display.log("reel: interrupted; submitting nothing more (press Ctrl-C again to quit at once)")
                session.stopSubmitting()
                stop.request()
            } else {
                Foundation.exit(ReelExit.interrupted)
            }
        }
        let work = Task { [script, concurrency] in
            // Inside the task the signals cancel: Ctrl-C during the estimate's pass stops it too.
            if !script.quiet { await RunEstimate.announce(script, options: options, holdings: holdings, billed: billed, on: display) }
            return (try? await script.execute(options, generator: session, reporter: display, concurrency: concurrency)) ?? []
        }
        stop.whenRequested { work.cancel() }
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
        try? parts.map { try $0.journal.finishRun($0.runID, outcome: interrupted ? .interrupted : failures.isEmpty ? .done : .failed) }
        // The run's rows, read once: unknown outcomes, what is still running, and the gallery.
        let rows = parts.flatMap { try? $0.journal.tasks(runID: $0.runID) } ?? []
        let unknown = rows.filter { $0.state == .unknown }
        if !unknown.isEmpty { reportUnknown(unknown, display: display) }
        if interrupted {
            let pending = rows.filter { $0.state.isResumable }.count
            printError(display.summary())
            printError(pending == 0
                ? "reel: interrupted. Run the same command again to continue; finished videos are reused, not bought again."
                : "reel: interrupted. \(pending) generation\(pending == 1 ? " is" : "s are") still running on the gateway and in the journal (\(stateDirectory)); run the same command again to pick \(pending == 1 ? "it" : "them") up without paying twice.")
            throw ExitCode(ReelExit.interrupted)
        }
        // The run's page, when it generated or reused a video: every take, to look at and compare.
        var gallery = ""
        if !noGallery, let parts, rows.contains(where: { $0.state == .downloaded }) {
            let page = (script.output.directory as NSString).appendingPathComponent("gallery.html")
            if (try? await Gallery(journal: parts.journal, stateDirectory: stateDirectory).write(.run(parts.runID), to: page)) != nil {
                gallery = "\nGallery: \(page)"
            }
        }
        if !failures.isEmpty {
            // A script that failed before its first generation (a syntax error, a missing
            // file, a bad argument) gets its error alone, not "0 videos generated" above it.
            if !script.quiet && parts != nil { printError(display.summary() + gallery) }
            if let code = script.report(failures) { throw code }
        }
        if !script.quiet { print(display.summary() + gallery) }
    }

    /// What history shows this run was given: its key=value pairs and --each file, as JSON.
    var runArguments: String? {
        var fields = (try? script.parsedArguments())?.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) } ?? []
        if let each = script.each { fields.append(("--each", .string(each))) }
        return fields.isEmpty ? nil : JSONValue.object(fields).encoded()
    }

    func workflowOptions() async throws -> WorkflowOptions {
        var options = try await script.workflowOptionsWithBudget()
        options.fresh = fresh
        options.generationConcurrency = concurrency
        return options
    }

    /// Lists the submissions whose outcome is unknown, with the one command that sends only
    /// them again; on a terminal, offers to run it now.
    func reportUnknown(_ rows: [TaskRecord], display: ProgressDisplay) {
        let command = (["reel"] + CommandLine.arguments.dropFirst().filter { $0 != "--resubmit-unknown" } + ["--resubmit-unknown"])
            .map(Self.shellQuoted).joined(separator: " ")
        var lines = ["reel: \(rows.count) submission\(rows.count == 1 ? " has" : "s have") an unknown outcome: reel sent \(rows.count == 1 ? "it" : "them") but never learned the task id, so the gateway may have created and billed \(rows.count == 1 ? "it" : "them"):"]
        for row in rows {
            let prompt = row.prompt.count > 40 ? String(row.prompt.prefix(39)) + "…" : row.prompt
            lines.append(TerminalText.escaped("  \(row.callSite ?? "?")  \"\(prompt)\"  journal row \(row.id)"))
        }
        lines.append("Check the gateway's task list first. To send only \(rows.count == 1 ? "this one" : "these") again (everything else is reused, not re-bought):")
        lines.append("  \(command)")
        for line in lines { printError(line) }
        guard !live.resubmitUnknown, isatty(STDIN_FILENO) != 0, isatty(STDERR_FILENO) != 0 else { return }
        StandardStream.error.write("Send \(rows.count == 1 ? "it" : "them") again now? [y/N] ")
        guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased().trimmingCharacters(in: .whitespaces)) else { return }
        // The same command with --resubmit-unknown, in this process's place.
        let arguments = Array(CommandLine.arguments.filter { $0 != "--resubmit-unknown" }) + ["--resubmit-unknown"]
        var pointers = arguments.map { strdup($0) } + [nil]
        APIKey.handOver()
        execv("/proc/self/exe", &pointers)
        printError("reel: could not start '\(command)': \(String(cString: strerror(errno))); run it yourself")
    }

    static func shellQuoted(_ word: String) -> String {
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) } && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
