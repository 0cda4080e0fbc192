import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A child process measured the way the benchmark needs: wall time, CPU time and peak RSS
/// (from wait4's rusage), with its output captured.
struct Measured {
    var status: Int32
    var wallSeconds: Double
    var cpuSeconds: Double
    var maxRSSKiB: Int
    var stdout: String
    var stderr: String
}

enum Subprocess {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Measured {
        let outPath = NSTemporaryDirectory() + "reel-bench-out-\(UUID().uuidString)"
        let errPath = NSTemporaryDirectory() + "reel-bench-err-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let started = Date()
        let spawned = posix_spawnp(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw BenchError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let wall = Date().timeIntervalSince(started)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Measured(status: exit, wallSeconds: wall, cpuSeconds: cpu, maxRSSKiB: Int(usage.ru_maxrss),
                        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }
}

/// A `reel simulator` in its own process, so its work and memory are not counted as reel's.
final class SimulatorProcess {
    let process = Process()
    let baseURL: String
    private let output = Pipe()

    init(reel: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: reel)
        process.arguments = ["simulator", "--port", "0"] + arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !text.contains("\n") {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        guard let range = text.range(of: #"http://[0-9.:]+"#, options: .regularExpression) else {
            process.terminate()
            throw BenchError("the simulator did not start: \(text)")
        }
        baseURL = String(text[range])
    }

    func get(_ path: String) throws -> Data {
        try Data(contentsOf: URL(string: baseURL + path)!)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
