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

    @Flag(help: "Use the built-in simulator even if REEL_BASE_URL is set.")
    var simulate = false

    @Option(name: .customLong("base-url"), help: ArgumentHelp("The gateway (overrides REEL_BASE_URL), without /v1.", valueName: "url"))
    var baseURL: String?

    @Option(help: ArgumentHelp("Generations in flight at once, across the whole script.", valueName: "n"))
    var concurrency: Int = 4

    @Option(help: ArgumentHelp("Seconds one generation may take from submission to result.", valueName: "s"))
    var timeout: Double = 1800

    @Flag(help: "Generate everything anew, even what the journal already holds.")
    var fresh = false

    @Option(name: .customLong("state"), help: ArgumentHelp("Folder of the journal that makes re-runs free.", valueName: "dir"))
    var stateDirectory: String = ".reel"

    @OptionGroup(title: "Built-in simulator (with --simulate, or when no gateway is set)") var simulation: SimulatorOptions

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1 (got \(concurrency))") }
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds (got \(timeout))") }
    }

    func run() async throws {
        let options = try workflowOptions()
        if dryRun {
            let generator = DryRunGenerator()
            do {
                try await WorkflowRunner.run(options, generator: generator, reporter: LineReporter(quiet: script.quiet))
            } catch let failure as WorkflowFailure {
                throw script.report(failure)
            }
            print(Plan(requests: generator.requests, savedPaths: generator.savedPaths).rendered(), terminator: "")
            return
        }

        var (client, simulator) = try await connection()
        client.taskTimeout = timeout
        client.connectionsPerHost = concurrency

        guard let opened = openJournal(script: options.scriptPath, baseURL: client.baseURL) else {
            await simulator?.stop()
            throw ExitCode(ReelExit.usage)
        }
        let journal = opened.journal, runID = opened.runID
        let display = ProgressDisplay(style: ProgressDisplay.style(quiet: script.quiet), verbose: script.verbose)
        let http = VideoClient(client, observer: { display.clientEvent($0) })
        let generator = LiveGenerator(client: http, journal: journal, runID: runID, concurrency: concurrency,
                                      outputDirectory: options.outputDirectory, progress: display)

        let work = Task { await Self.failure(of: options, generator: generator, reporter: display) }
        let signals = SignalWatcher { presses in
            if presses == 1 {
                display.log("reel: interrupted; submitting nothing more (press Ctrl-C again to quit at once)")
                generator.stopSubmitting()
                work.cancel()
            } else {
                Foundation.exit(ReelExit.interrupted)
            }
        }
        let failure = await work.value
        let interrupted = work.isCancelled
        if interrupted { await generator.waitForSubmissionsInFlight(timeout: client.requestTimeout) }
        signals.cancel()
        display.finish()
        await http.shutdown()
        await simulator?.stop()
        try finishRun(journal: journal, runID: runID, display: display, interrupted: interrupted, failure: failure)
    }

    /// Records how the run ended, says so, and gives its exit code.
    func finishRun(journal: Journal, runID: Int64, display: ProgressDisplay, interrupted: Bool, failure: WorkflowFailure?) throws {
        try? journal.finishRun(runID, outcome: interrupted ? "interrupted" : failure == nil ? "done" : "failed")
        if interrupted {
            let pending = ((try? journal.tasks(runID: runID)) ?? []).filter { $0.state.isResumable }.count
            printError(display.summary())
            printError(pending == 0
                ? "reel: interrupted. Run the same command again to continue; finished videos are reused, not bought again."
                : "reel: interrupted. \(pending) generation\(pending == 1 ? " is" : "s are") still running on the gateway and in the journal (\(stateDirectory)); run the same command again to pick \(pending == 1 ? "it" : "them") up without paying twice.")
            throw ExitCode(ReelExit.interrupted)
        }
        if let failure {
            if !script.quiet { printError(display.summary()) }
            throw script.report(failure)
        }
        if !script.quiet { print(display.summary()) }
    }

    /// The gateway to talk to: --base-url or REEL_BASE_URL with REEL_API_KEY, else (or with
    /// --simulate) the built-in simulator, started here.
    func connection() async throws -> (ClientConfiguration, RunningSimulator?) {
        let environment = ProcessInfo.processInfo.environment
        let gateway = simulate ? nil : (baseURL ?? environment["REEL_BASE_URL"]).flatMap { $0.isEmpty ? nil : $0 }
        if let gateway {
            let client = ClientConfiguration(baseURL: gateway, apiKey: APIKey.value)
            if let problem = client.baseURLProblem {
                printError("reel: \(problem)")
                throw ExitCode(ReelExit.usage)
            }
            guard let key = client.apiKey, !key.isEmpty else {
                printError("reel: REEL_API_KEY is not set; export it for \(client.baseURL) (reel sends it only to that host and never prints it), or unset REEL_BASE_URL to use the built-in simulator")
                throw ExitCode(ReelExit.usage)
            }
            return (client, nil)
        }
        let running = try await SimulatorServer(configuration: try simulation.configuration()).start()
        var client = ClientConfiguration(baseURL: running.baseURL, apiKey: "simulator")
        // Simulated tasks take seconds, not minutes: poll and retry briskly.
        client.poll = .quick(max(0.05, min(1, simulation.latency / 10)))
        client.retry = RetryPolicy(maxAttempts: 6, baseDelay: 0.05, maxDelay: 2)
        let reason = simulate ? "--simulate is set" : "REEL_BASE_URL is not set"
        printError("reel: \(reason), so this run uses the built-in simulator at \(running.baseURL): the videos are test patterns and nothing is billed.")
        return (client, running)
    }

    func workflowOptions() throws -> WorkflowOptions {
        var options = try script.workflowOptions()
        options.fresh = fresh
        return options
    }

    /// The journal and this run's id in it; nil (after saying why) when it cannot be opened.
    func openJournal(script: String, baseURL: String) -> (journal: Journal, runID: Int64)? {
        do {
            let journal = try Journal(directory: stateDirectory)
            return (journal, try journal.beginRun(script: script, baseURL: baseURL))
        } catch {
            printError("reel: cannot open the journal in \(stateDirectory): \(error) (choose another folder with --state)")
            return nil
        }
    }

    /// Runs the workflow; nil when it finished.
    static func failure(of options: WorkflowOptions, generator: any VideoGenerator, reporter: any RunReporter) async -> WorkflowFailure? {
        do {
            try await WorkflowRunner.run(options, generator: generator, reporter: reporter)
            return nil
        } catch {
            return error
        }
    }
}
