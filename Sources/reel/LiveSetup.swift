import ArgumentParser
import Console
import Foundation
import Simulator
import VideoAPI
import Workflow

/// How a live session reaches a gateway (or the built-in simulator) and where it keeps its
/// journal; shared by `run` and `repl`.
struct LiveSetup: ParsableArguments {
    @Flag(help: "Use the built-in simulator even if REEL_BASE_URL is set.")
    var simulate = false

    @OptionGroup var gatewayOptions: GatewayOptions

    @Option(help: ArgumentHelp("Generations in flight at once, across the whole script.", valueName: "n"))
    var concurrency: Int = 4

    @Option(help: ArgumentHelp("Seconds one generation may take from submission to result.", valueName: "s"))
    var timeout: Double = ClientConfiguration.defaultTaskTimeout

    @OptionGroup var state: StateOptions
    var stateDirectory: String { state.directory }

    @Flag(name: .customLong("resubmit-unknown"), help: ArgumentHelp(
        "Send again the submissions an earlier run sent without learning their task id (the gateway may have billed them); everything else is reused as usual."))
    var resubmitUnknown = false

    @Flag(name: .customLong("new-journal"), help: ArgumentHelp(
        "Run although the journal knows no takes while --out holds videos (a new, moved or emptied journal): what an earlier journal knew is generated, and paid for, again."))
    var newJournal = false

    @OptionGroup(title: "Built-in simulator (with --simulate, or when no gateway is set)") var simulation: SimulatorOptions

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1 (got \(concurrency))") }
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds (got \(timeout))") }
    }

    /// Where requests go, decided up front (cheap); the simulator itself starts lazily.
    struct Connection: Sendable {
        var client: ClientConfiguration
        /// Set when the built-in simulator is to be used.
        var simulator: SimulatorConfiguration?
        var simulatorReason: String
        /// What named the gateway: "--base-url" or "REEL_BASE_URL" (empty for the simulator).
        var gatewaySource = ""
    }

    /// The gateway and what named it, or nil for the built-in simulator.
    var gateway: (url: String, source: String)? { simulate ? nil : gatewayOptions.named }

    /// How the journal knows where the requests go — the gateway's URL as the client writes it,
    /// or the built-in simulator (whose port changes every run) — for the run's record and the
    /// plan's look-ups alike.
    var journalIdentity: String {
        gateway.map { ClientConfiguration(baseURL: $0.url, apiKey: nil).baseURL } ?? SimulatorConfiguration.builtInIdentity
    }

    /// --base-url or REEL_BASE_URL with the key, else (or with --simulate) the simulator. A key
    /// reel refused at start-up, or a journal folder that is a file, stops here: nothing is sent.
    func connection() throws -> Connection {
        if let problem = state.folderProblem {
            printError("reel: \(problem)")
            throw ExitCode(ReelExit.usage)
        }
        if let gateway {
            let client = ClientConfiguration(baseURL: gateway.url, apiKey: APIKey.value)
            if let problem = client.baseURLProblem {
                printError("reel: \(problem)")
                throw ExitCode(ReelExit.usage)
            }
            if let problem = APIKey.problem {
                printError("reel: \(problem)")
                throw ExitCode(ReelExit.usage)
            }
            guard let key = client.apiKey, !key.isEmpty else {
                printError("reel: REEL_API_KEY is not set (nor REEL_API_KEY_FILE); export it for \(client.baseURL) (reel sends it only to that host and never prints it), or unset REEL_BASE_URL to use the built-in simulator")
                throw ExitCode(ReelExit.usage)
            }
            return Connection(client: configured(client), simulator: nil, simulatorReason: "", gatewaySource: gateway.source)
        }
        var client = ClientConfiguration(baseURL: "http://127.0.0.1", apiKey: "simulator")
        // Simulated tasks take seconds, not minutes: poll and retry briskly.
        client.poll = .quick(max(0.05, min(1, simulation.latency / 10)))
        client.retry = RetryPolicy(maxAttempts: 6, baseDelay: 0.05, maxDelay: 2)
        return Connection(client: configured(client), simulator: try simulation.configuration(),
                          simulatorReason: simulate ? "--simulate is set" : "REEL_BASE_URL is not set")
    }

    /// The lines a session starts with, so a run can never spend on a backend it did not mean
    /// to: where its requests go — the gateway's host, what named it and where the key came
    /// from (never the key), or the simulator and why — then the project, when it is not the
    /// current folder. `subject` is "this run" or "this session".
    func announcement(_ connection: Connection, subject: String, out: String?) -> [String] {
        var lines: [String]
        if connection.simulator != nil {
            lines = ["reel: \(connection.simulatorReason), so \(subject) uses the built-in simulator: the videos are test patterns and nothing is billed."]
        } else {
            lines = ["reel: \(subject) sends to the gateway at \(Self.host(connection.client.baseURL)) (from \(connection.gatewaySource)) with the key from \(APIKey.source ?? "nowhere"); what it generates there is billed."]
        }
        if let notice = Project.notice(state: state.explicitDirectory, out: out) { lines.append(notice) }
        return lines
    }

    /// The same for `check` and `--dry-run` (`subject`), which send nothing and need no key:
    /// where a run would send.
    func dryAnnouncement(subject: String, out: String?) -> [String] {
        var lines: [String]
        if let gateway {
            let destination = "the gateway at \(Self.host(gateway.url)) (from \(gateway.source))"
            let stop = APIKey.problem ?? (APIKey.source == nil ? "no key is set (REEL_API_KEY or REEL_API_KEY_FILE)" : nil)
            lines = [stop.map { "reel: \(subject) sends nothing; a run would go to \(destination) but stop first: \($0)." }
                ?? "reel: \(subject) sends nothing; a run would send to \(destination) with the key from \(APIKey.source ?? ""), and be billed."]
        } else {
            lines = ["reel: \(subject) sends nothing; a run would use the built-in simulator (\(simulate ? "--simulate is set" : "REEL_BASE_URL is not set")): nothing billed."]
        }
        if let notice = Project.notice(state: state.explicitDirectory, out: out) { lines.append(notice) }
        return lines
    }

    /// host[:port] of a gateway URL (no path, no user:password); the text itself if it has none.
    private static func host(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else { return url }
        return components.port.map { "\(host):\($0)" } ?? host
    }

    /// Sets up the live parts on the first generation: simulator (if any), client, journal.
    func start(_ connection: Connection, script: String, arguments: String? = nil, outputDirectory: String,
               display: ProgressDisplay, budget: Budget = Budget(), fresh: Bool = false) async throws -> LiveSession.Parts {
        var client = connection.client
        var simulator: RunningSimulator?
        var identity: String?
        if var configuration = connection.simulator {
            configuration.adoptsEarlierTasks = true
            let running = try await SimulatorServer(configuration: configuration).start()
            simulator = running
            client.baseURL = running.baseURL
            identity = SimulatorConfiguration.builtInIdentity
        }
        let journal: Journal
        let runID: Int64
        do {
            let notice = state.lockWaitNotice
            journal = try await Journal.opened(directory: stateDirectory, onLockWait: { display.log(notice) })
            try JournalTrust.check(journal, outputDirectory: outputDirectory, billed: identity == nil && !fresh,
                                   acceptingNewJournal: newJournal, display: display)
            runID = try journal.beginRun(script: script, baseURL: journalIdentity, arguments: arguments)
            // Task ids an earlier run could not write (a locked journal, a full disk).
            let mended = try journal.adoptRecovered()
            if mended > 0 { display.log("reel: adopted \(mended) task id\(mended == 1 ? "" : "s") an earlier run kept in a recovery file") }
        } catch is CancellationError {
            await simulator?.stop()
            throw VideoAPIError(.cancelled, "not submitted: the run stopped while waiting for the journal")
        } catch let refused as VideoAPIError where refused.code == .journal {
            await simulator?.stop()
            throw refused
        } catch {
            await simulator?.stop()
            throw VideoAPIError(.journal, "cannot open the journal in \(stateDirectory): \(error). Mend it or restore it from a backup; \(JournalTrust.startingElsewhere).")
        }
        let http = VideoClient(client, observer: { display.clientEvent($0) })
        // Absolute, so the journal's paths hold from whichever folder the project is run.
        let generator = LiveGenerator(client: http, journal: journal, runID: runID, concurrency: concurrency,
                                      outputDirectory: ReelPaths.absolute(outputDirectory), progress: display, resubmitUnknown: resubmitUnknown,
                                      gatewayIdentity: identity, budget: budget)
        return LiveSession.Parts(generator: generator, client: http, simulator: simulator, journal: journal, runID: runID)
    }

    private func configured(_ client: ClientConfiguration) -> ClientConfiguration {
        var client = client
        client.taskTimeout = timeout
        client.connectionsPerHost = concurrency
        return client
    }
}
