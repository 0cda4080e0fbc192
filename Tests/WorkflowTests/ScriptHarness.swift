import Foundation
import LuaRuntime
import VideoAPI
@testable import Workflow

/// Writes a Lua script to a fresh folder and runs it, the way `reel run` does.
struct ScriptHarness {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("reel-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Runs `script` with the given generator; returns what it logged and warned.
    @discardableResult
    func run(_ script: String, name: String = "script.lua", arguments: [String: String] = [:],
             generator: any VideoGenerator = DryRunGenerator(), baseModel: String = Capabilities.defaultModelName,
             fresh: Bool = false, sandbox: Bool = false) async throws -> RecordingReporter {
        let path = try write(name, script)
        let reporter = RecordingReporter()
        var options = WorkflowOptions(scriptPath: path, arguments: arguments,
                                      outputDirectory: directory.appendingPathComponent("out").path, baseModel: baseModel)
        options.scriptName = name
        options.fresh = fresh
        options.sandbox = sandbox
        try await WorkflowRunner.run(options, generator: generator, reporter: reporter)
        return reporter
    }
}

final class RecordingReporter: RunReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var logged: [String] = []
    private var warned: [String] = []
    var logs: [String] { lock.withLock { logged } }
    var warnings: [String] { lock.withLock { warned } }
    func log(_ line: String) { lock.withLock { logged.append(line) } }
    func warning(_ line: String) { lock.withLock { warned.append(line) } }
}

extension WorkflowFailure {
    var message: String {
        switch self {
        case .script(let e): e.message
        case .unreadableScript, .invalidCalls: description
        }
    }
}
