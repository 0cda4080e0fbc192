import Foundation
import Synchronization

/// Runs the built `reel` binary as a user would, capturing its output and exit code.
struct CLI {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The `reel` executable built beside this test bundle.
    static let executable: URL = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("reel")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/reel")
    }()

    /// The package root, where `scripts/` lives.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// This process's environment without reel's own settings, plus `extra`: each test says
    /// which gateway and model it means.
    static func environment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["REEL_BASE_URL"] = nil
        env["REEL_MODEL"] = nil
        // Other suites in this process may set a key; each test gives its own.
        env["REEL_API_KEY"] = nil
        env["REEL_API_KEY_FILE"] = nil
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// A `reel` process in `directory`, stdin closed, environment as `environment(_:)` makes it.
    static func process(_ arguments: [String], in directory: URL, environment: [String: String]) -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = Self.environment(environment)
        process.standardInput = FileHandle.nullDevice
        return process
    }

    /// Runs `reel` to its end (terminated after `timeout`). Async, and every wait here polls
    /// with `Task.sleep`: a test that blocks a thread of Swift's task pool (two threads on a
    /// two-core machine) holds up every other test's tasks, for as long as the run takes.
    static func run(_ arguments: [String], in directory: URL = packageRoot, environment: [String: String] = [:],
                    timeout: TimeInterval = 120) async throws -> Result {
        let process = Self.process(arguments, in: directory, environment: environment)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while it runs so a chatty process cannot fill one and stall.
        let outData = Reader(out.fileHandleForReading), errData = Reader(err.fileHandleForReading)
        await process.exit(within: timeout)
        return Result(status: process.terminationStatus, stdout: await outData.text(), stderr: await errData.text())
    }
}

extension Process {
    /// Waits for the process to end, without holding a thread of the task pool; terminates
    /// it after `timeout`. True if it ended by itself.
    @discardableResult
    func exit(within timeout: TimeInterval = .infinity) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 10_000_000) }
        let ended = !isRunning
        if !ended { terminate() }
        while isRunning { try? await Task.sleep(nanoseconds: 10_000_000) }
        waitUntilExit()  // reaped: returns at once
        return ended
    }
}

/// Drains a pipe on a thread of its own (not the task pool's).
final class Reader: Sendable {
    private struct State {
        var data: Data?
        var waiting: [CheckedContinuation<Data, Never>] = []
    }
    private let state = Mutex(State())

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            let data = handle.readDataToEndOfFile()
            let waiting = state.withLock { state in
                state.data = data
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume(returning: data) }
        }
    }

    /// Everything the pipe carried, once it is closed.
    func data() async -> Data {
        await withCheckedContinuation { (continuation: CheckedContinuation<Data, Never>) in
            let ready = state.withLock { state -> Data? in
                if state.data == nil { state.waiting.append(continuation) }
                return state.data
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func text() async -> String { String(decoding: await data(), as: UTF8.self) }
}
