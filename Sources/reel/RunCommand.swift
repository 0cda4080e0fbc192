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
            let failures = try await script.execute(options, generator: generator, reporter: LineReporter(quiet: script.quiet), concurrency: 1)
            if let code = script.report(failures) { throw code }
            print(Plan(requests: generator.requests, savedPaths: generator.savedPaths).rendered(), terminator: "")
            return
        }

        var connection = try connection()
        connection.client.taskTimeout = timeout
        connection.client.connectionsPerHost = concurrency
        let display = ProgressDisplay(style: ProgressDisplay.style(quiet: script.quiet), verbose: script.verbose)
        let session = LiveSession { [self, connection] in
            try await start(connection, script: options.scriptPath, outputDirectory: options.outputDirectory, display: display)
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

    /// Where requests go, decided up front (cheap); the simulator itself starts lazily.
    struct Connection: Sendable {
        var client: ClientConfiguration
        /// Set when the built-in simulator is to be used.
        var simulator: SimulatorConfiguration?
        var simulatorReason: String
    }

    /// --base-url or REEL_BASE_URL with the key, else (or with --simulate) the simulator.
    func connection() throws -> Connection {
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
            return Connection(client: client, simulator: nil, simulatorReason: "")
        }
        var client = ClientConfiguration(baseURL: "http://127.0.0.1", apiKey: "simulator")
        // Simulated tasks take seconds, not minutes: poll and retry briskly.
        client.poll = .quick(max(0.05, min(1, simulation.latency / 10)))
        client.retry = RetryPolicy(maxAttempts: 6, baseDelay: 0.05, maxDelay: 2)
        return Connection(client: client, simulator: try simulation.configuration(),
                          simulatorReason: simulate ? "--simulate is set" : "REEL_BASE_URL is not set")
    }

    /// Sets up the live parts on the first generation: simulator (if any), client, journal.
    func start(_ connection: Connection, script: String, outputDirectory: String, display: ProgressDisplay) async throws -> LiveSession.Parts {
        var client = connection.client
        var simulator: RunningSimulator?
        if let configuration = connection.simulator {
            let running = try await SimulatorServer(configuration: configuration).start()
            simulator = running
            client.baseURL = running.baseURL
            display.log("reel: \(connection.simulatorReason), so this run uses the built-in simulator at \(running.baseURL): the videos are test patterns and nothing is billed.")
        }
        let journal: Journal
        let runID: Int64
        do {
            journal = try Journal(directory: stateDirectory)
            runID = try journal.beginRun(script: script, baseURL: client.baseURL)
        } catch {
            await simulator?.stop()
            throw VideoAPIError(.apiError, "cannot open the journal in \(stateDirectory): \(error) (choose another folder with --state)")
        }
        let http = VideoClient(client, observer: { display.clientEvent($0) })
        let generator = LiveGenerator(client: http, journal: journal, runID: runID, concurrency: concurrency,
                                      outputDirectory: outputDirectory, progress: display)
        return LiveSession.Parts(generator: generator, client: http, simulator: simulator, journal: journal, runID: runID)
    }

    /// Records how the run ended, says so, and gives its exit code.
    func finishRun(parts: LiveSession.Parts?, display: ProgressDisplay, interrupted: Bool,
                   failures: [(row: Int?, failure: WorkflowFailure)]) async throws {
        try? parts?.journal.finishRun(parts!.runID, outcome: interrupted ? "interrupted" : failures.isEmpty ? "done" : "failed")
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
