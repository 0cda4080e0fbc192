import Foundation
import Simulator
import VideoAPI
@testable import Workflow

/// A simulator on a loopback port and a live generator pointed at it: the real client over
/// real HTTP, with polling and retries made quick for tests.
struct LiveHarness {
    let simulator: RunningSimulator
    let client: VideoClient
    let scripts: ScriptHarness
    let progress = RecordingProgress()
    let journal: Journal

    init(_ configure: (inout SimulatorConfiguration) -> Void = { _ in }, concurrency: Int = 4, taskTimeout: Double = 60,
         apiKey: String = "sk-test", client configureClient: (inout ClientConfiguration) -> Void = { _ in }) async throws {
        var configuration = SimulatorConfiguration()
        configuration.generationSeconds = 0.15
        configuration.faults.retryAfterSeconds = 0
        configure(&configuration)
        simulator = try await SimulatorServer(configuration: configuration).start()
        var clientConfiguration = ClientConfiguration(baseURL: simulator.baseURL, apiKey: apiKey)
        clientConfiguration.poll = .quick(0.05)
        clientConfiguration.retry = RetryPolicy(maxAttempts: 12, baseDelay: 0.01, maxDelay: 0.1)
        clientConfiguration.taskTimeout = taskTimeout
        clientConfiguration.requestTimeout = 5
        clientConfiguration.connectionsPerHost = concurrency
        configureClient(&clientConfiguration)
        client = VideoClient(clientConfiguration)
        scripts = try ScriptHarness()
        journal = try Journal(directory: scripts.directory.appendingPathComponent(".reel").path)
        self.concurrency = concurrency
    }

    let concurrency: Int

    /// A generator for one run, as `reel run` makes one per invocation (same journal).
    func generator() throws -> LiveGenerator {
        let runID = try journal.beginRun(script: "script.lua", baseURL: simulator.baseURL)
        return LiveGenerator(client: client, journal: journal, runID: runID, concurrency: concurrency,
                             outputDirectory: scripts.directory.appendingPathComponent("out").path, progress: progress)
    }

    @discardableResult
    func run(_ script: String, arguments: [String: String] = [:], fresh: Bool = false) async throws -> RecordingReporter {
        try await scripts.run(script, arguments: arguments, generator: try generator(), fresh: fresh)
    }

    /// Runs a script that must fail; returns the Lua error value's fields.
    func failure(_ script: String) async throws -> (code: String?, message: String, taskID: String?) {
        do {
            try await run(script)
        } catch let failure as WorkflowFailure {
            guard case .script(let error) = failure else { return (nil, failure.description, nil) }
            let table = error.value.tableValue
            return (table?["code"].stringValue, error.message, table?["task_id"].stringValue)
        }
        return (nil, "the script did not fail", nil)
    }

    var outputFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: scripts.directory.appendingPathComponent("out").path)) ?? []
    }

    /// Runs `body` with a harness and awaits its stop afterwards, whether `body` returns or
    /// throws: a stop left to a Task nobody awaits outlives the test, with its server and files.
    static func with(_ configure: (inout SimulatorConfiguration) -> Void = { _ in }, concurrency: Int = 4, taskTimeout: Double = 60,
                     apiKey: String = "sk-test", client configureClient: (inout ClientConfiguration) -> Void = { _ in },
                     _ body: (LiveHarness) async throws -> Void) async throws {
        let live = try await LiveHarness(configure, concurrency: concurrency, taskTimeout: taskTimeout, apiKey: apiKey, client: configureClient)
        do {
            try await body(live)
        } catch {
            await live.stop()
            throw error
        }
        await live.stop()
    }

    func stop() async {
        await client.shutdown()
        await simulator.stop()
        scripts.cleanUp()
    }
}

final class RecordingProgress: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private(set) var events: [(Int, TaskEvent)] = []
    func begin(_ request: GenerationRequest, callSite: String?, sequence: Int?) -> Int { lock.withLock { count += 1; return count } }
    func update(_ task: Int, _ event: TaskEvent) { lock.withLock { events.append((task, event)) } }
    private(set) var warnings: [String] = []
    func warning(_ line: String) { lock.withLock { warnings.append(line) } }
}
