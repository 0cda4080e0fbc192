import Foundation

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

    static func run(_ arguments: [String], in directory: URL = packageRoot, environment: [String: String] = [:],
                    timeout: TimeInterval = 120) throws -> Result {
        let process = Self.process(arguments, in: directory, environment: environment)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while it runs so a chatty process cannot fill one and stall.
        let outData = Reader(out.fileHandleForReading), errData = Reader(err.fileHandleForReading)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: outData.text(), stderr: errData.text())
    }
}

/// Drains a pipe on a background thread.
final class Reader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
