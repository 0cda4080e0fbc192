import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `reel run` for real: against the built-in simulator with nothing configured, and against
/// a separately started `reel simulator` as if it were a gateway.
@Suite struct LiveRunCLITests {
    private func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func withNothingConfiguredARunUsesTheSimulatorAndLeavesPlayableVideos() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A copy: in scripts/ it would belong to the package's own project (its .reel).
        let script = dir.appendingPathComponent("generate_then_extend.lua").path
        try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("scripts/generate_then_extend.lua").path, toPath: script)
        let result = try await CLI.run(["run", script, "--latency", "0.2", "--out", dir.appendingPathComponent("out").path], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("REEL_BASE_URL is not set, so this run uses the built-in simulator"))
        #expect(result.stdout.contains("3 videos generated"))
        let listing = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)
        let files = listing.filter { $0 != "gallery.html" }
        #expect(files.count == 3 && files.allSatisfy { $0.hasSuffix(".mp4") }, "\(listing)")
        #expect(listing.contains("gallery.html") && result.stdout.contains("Gallery: "), "the run's page")
        // Playable: ffprobe (installed by scripts/setup.sh) reads an H.264 stream in each.
        guard let ffprobe = ["/usr/bin/ffprobe", "/usr/local/bin/ffprobe"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("ffprobe is not installed; run scripts/setup.sh")
            return
        }
        for file in files {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: ffprobe)
            probe.arguments = ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", dir.appendingPathComponent("out/\(file)").path]
            let pipe = Pipe()
            probe.standardOutput = pipe
            try probe.run()
            probe.waitUntilExit()
            let codec = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(probe.terminationStatus == 0 && codec == "h264", "\(file): \(codec)")
        }
    }

    /// The built-in simulator gets a new port every run, but the journal knows it by one name:
    /// a re-run reuses every video, and `reel task` answers from the journal at once.
    @Test func aReRunOnTheBuiltInSimulatorReusesEverything() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A copy: in scripts/ it would belong to the package's own project (its .reel).
        let script = dir.appendingPathComponent("generate_then_extend.lua").path
        try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("scripts/generate_then_extend.lua").path, toPath: script)
        let first = try await CLI.run(["run", script, "--latency", "0.2"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let again = try await CLI.run(["run", script, "--latency", "0.2"], in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("0 videos generated") && again.stdout.contains("3 reused"), "\(again.stdout)")
        // History credits the payment to the first run: the second reads as reuse, not a second bill.
        let listed = try await CLI.run(["history"], in: dir).stdout
        #expect(listed.contains("3 generations, 22 s of video on the built-in simulator (not billed); all submitted by another run (not paid again)"), "\(listed)")
        #expect(listed.components(separatedBy: "submitted by run 1").count - 1 == 3, "\(listed)")

        let history = CLI.parseJSONArray(try await CLI.run(["history", "--json"], in: dir).stdout)
        let id = try #require(((history.first?["tasks"] as? [[String: Any]])?.first?["task_id"]) as? String)
        #expect(((history.first?["tasks"] as? [[String: Any]])?.first?["submitted_by_run"]) as? Int == 1)
        let started = Date()
        let task = try await CLI.run(["task", id, "--save", "kept.mp4"], in: dir)
        #expect(task.status == 0, "\(task.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)  // no waiting on a gateway (a loaded machine starts a debug build slowly)
        #expect(task.stdout.contains("answered from the journal") && task.stdout.contains("succeeded"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("kept.mp4").path))
    }

    /// History is the full record: arguments, seed, line, request body, and filters for what failed.
    @Test func historyIsTheFullRecord() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            map({ "calm sea", "storm" }, function(p)
              return text_to_video{ prompt = p .. " " .. args.place, seed = 7, duration = 4 }
            end, { errors = "collect" })
            """.write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        let run = try await CLI.run(["run", "s.lua", "place=harbour", "--latency", "0.2", "--task-failure-rate", "0.5", "--fault-seed", "4"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let all = CLI.parseJSONArray(try await CLI.run(["history", "--json"], in: dir).stdout)
        let first = try #require(all.first)
        #expect((first["arguments"] as? [String: Any])?["place"] as? String == "harbour")
        let tasks = try #require(first["tasks"] as? [[String: Any]])
        #expect(tasks.count == 2)
        #expect(tasks.allSatisfy { $0["seed"] as? Int == 7 && ($0["call_site"] as? String)?.hasSuffix("s.lua:2") == true })
        #expect(tasks.allSatisfy { (($0["request"] as? [String: Any])?["duration"] as? Int) == 4 })
        let failedCount = tasks.filter { $0["state"] as? String == "failed" }.count
        let failed = try await CLI.run(["history", "--failed"], in: dir)
        #expect(failed.stdout.components(separatedBy: "  failed  ").count - 1 == failedCount, "\(failed.stdout)")
        let grep = try await CLI.run(["history", "--grep", "STORM"], in: dir)
        #expect(grep.stdout.contains("\"storm harbour\"") && !grep.stdout.contains("\"calm sea harbour\""), "\(grep.stdout)")
    }

    @Test func theKeyIsNeverPrintedEvenVerbose() async throws {
        let key = "sk-live-\(UUID().uuidString)"
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "0.1", "--require-key", key])
        defer { server.stop() }
        let url = try await server.waitForURL()
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "local v = text_to_video 'a kite'\nlog(v.id)\n".write(to: dir.appendingPathComponent("kite.lua"), atomically: true, encoding: .utf8)
        let ok = try await CLI.run(["run", "--verbose", "kite.lua"], in: dir, environment: ["REEL_BASE_URL": url, "REEL_API_KEY": key])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stderr.contains("POST /v1/video/generations → 200"))
        #expect(!(ok.stdout + ok.stderr).contains(key))
        let refused = try await CLI.run(["run", "--verbose", "--fresh", "kite.lua"], in: dir, environment: ["REEL_BASE_URL": url, "REEL_API_KEY": key + "-wrong"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("401"))
        #expect(!(refused.stdout + refused.stderr).contains(key))
    }

    @Test func aGatewayWithoutAKeyIsAConfigurationError() async throws {
        let result = try await CLI.run(["run", "scripts/prompt_sweep.lua"], environment: ["REEL_BASE_URL": "http://127.0.0.1:9", "REEL_API_KEY": ""])
        #expect(result.status == 2)
        #expect(result.stderr.contains("REEL_API_KEY is not set"))
        let badURL = try await CLI.run(["run", "scripts/prompt_sweep.lua"], environment: ["REEL_BASE_URL": "gateway.example.com", "REEL_API_KEY": "k"])
        #expect(badURL.status == 2)
        #expect(badURL.stderr.contains("is not an http(s) URL"))
    }

    /// A script that fails before its first generation gets its error alone: no "0 videos
    /// generated" summary above it to read past.
    @Test func aScriptThatNeverGeneratedReportsOnlyItsError() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "text_to_video{ prompt = 'a'\n".write(to: dir.appendingPathComponent("broken.lua"), atomically: true, encoding: .utf8)
        // The line every run starts with (which backend it would spend on), then the error alone.
        let backend = "reel: REEL_BASE_URL is not set, so this run uses the built-in simulator: the videos are test patterns and nothing is billed.\n"
        let broken = try await CLI.run(["run", "broken.lua"], in: dir)
        #expect(broken.status == 1)
        #expect(broken.stderr == backend + "error: broken.lua:2: '}' expected (to close '{' at line 1) near <eof>\n", "\(broken.stderr)")
        let missing = try await CLI.run(["run", "nothere.lua"], in: dir)
        #expect(missing.status == 2)
        #expect(missing.stderr == backend + "reel: cannot read script 'nothere.lua': no such file\n", "\(missing.stderr)")
    }

    @Test func aFailedTaskExitsOneWithItsCode() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "text_to_video 'x'\n".write(to: dir.appendingPathComponent("fail.lua"), atomically: true, encoding: .utf8)
        let result = try await CLI.run(["run", "fail.lua", "--latency", "0.1", "--task-failure-rate", "1"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: fail.lua:1: text_to_video: task sim-"))
        #expect(result.stderr.contains("content filter"))
    }

    @Test func ctrlCStopsSaysHowToResumeAndTheRerunPaysNothingTwice() async throws {
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "3"])
        defer { server.stop() }
        let url = try await server.waitForURL()
        let environment = ["REEL_BASE_URL": url, "REEL_API_KEY": "sk-ctrl-c"]
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "text_to_video 'slow'\n".write(to: dir.appendingPathComponent("slow.lua"), atomically: true, encoding: .utf8)
        let run = try BackgroundReel(["run", "slow.lua"], in: dir, environment: environment)
        defer { run.stop() }
        _ = try await run.waitForLine(containing: "submitted", in: .standardError)
        run.interrupt()
        #expect(await run.waitForExit(timeout: 20) == 130)
        let said = try await run.waitForLine(containing: "interrupted.", in: .standardError)
        #expect(said.contains("1 generation is still running on the gateway") && said.contains("run the same command again"))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)) ?? []
        #expect(leftovers.isEmpty)

        let again = try await CLI.run(["run", "slow.lua"], in: dir, environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("resumed from the journal"))
        // The second run paid nothing, and its summary says why its video counts as generated.
        #expect(again.stdout.contains("1 video generated (8 s of video), resumed from an earlier run (paid then)"), "\(again.stdout)")
        let stats = String(decoding: try Data(contentsOf: URL(string: url + "/__simulator/stats")!), as: UTF8.self)
        #expect(stats.contains("\"submissions\":1,"), "\(stats)")
    }

    /// map claims its items in list order, also with many in flight: the journal's rows (and
    /// the takes' numbers) follow the list, whatever order the tasks happened to start in.
    @Test func mapSubmitsInListOrder() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local items = {}
            for i = 1, 16 do items[i] = "ordered take " .. i end
            map(items, function(p) return text_to_video{ prompt = p, duration = 4 } end, { concurrency = 8 })
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua", "--latency", "0.2", "--sample-videos", "--concurrency", "8"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let prompts = try await Shell.run("/usr/bin/env", ["sqlite3", dir.appendingPathComponent(".reel/journal.sqlite").path, "SELECT prompt FROM task ORDER BY id"])
        #expect(prompts.split(separator: "\n").map(String.init) == (1...16).map { "ordered take \($0)" }, "\(prompts)")
    }

    /// With more calls in flight than places (`map`'s 10 against --concurrency 2, each
    /// generation 1.5 s) the POSTs still follow the list. Before, the calls behind the first
    /// one waiting for a place ran out of patience after half a second and went in whatever
    /// order they were let go: take 20 before take 6.
    @Test func mapWithMoreCallsThanPlacesStillPostsInListOrder() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local items = {}
            for i = 1, 10 do items[i] = "queued take " .. i end
            map(items, function(p) return text_to_video{ prompt = p, duration = 4 } end, { concurrency = 10 })
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua", "--latency", "1.5", "--sample-videos", "--concurrency", "2"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        // The simulator numbers its tasks in the order the POSTs reach it: the takes by task number.
        let rows = try await Shell.run("/usr/bin/env", ["sqlite3", dir.appendingPathComponent(".reel/journal.sqlite").path, "SELECT taskID, prompt FROM task"])
        let byPost = rows.split(separator: "\n").compactMap { row -> (Int, String)? in
            let fields = row.split(separator: "|", maxSplits: 1)
            guard fields.count == 2, let number = fields[0].split(separator: "-").last.flatMap({ Int($0) }) else { return nil }
            return (number, String(fields[1]))
        }.sorted { $0.0 < $1.0 }.map(\.1)
        #expect(byPost == (1...10).map { "queued take \($0)" }, "\(rows)")
    }

    /// Files named from a template, readable and collision-free: --name for every take, a
    /// call's own name over it, the task id added when a name is taken.
    @Test func filesAreNamedFromATemplateWithoutCollisions() async throws {
        let dir = try HostileConditionsTests.scratch("""
            map({ 7, 42 }, function(seed) return text_to_video{ prompt = "a red kite", seed = seed, duration = 4 } end)
            text_to_video{ prompt = "the hero shot", duration = 4, name = "hero" }
            text_to_video{ prompt = "another hero", duration = 4, name = "hero" }
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua", "--latency", "0.2", "--name", "{n}-{prompt}-seed{seed}"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path))
        #expect(files.isSuperset(of: ["1-a-red-kite-seed7.mp4", "2-a-red-kite-seed42.mp4", "hero.mp4"]), "\(files.sorted())")
        #expect(files.contains { $0.hasPrefix("hero-sim-") && $0.hasSuffix(".mp4") }, "the second hero keeps its own file: \(files.sorted())")
        let bad = try await CLI.run(["run", "s.lua", "--name", "{sede}-{id}"], in: dir)
        #expect(bad.status == 2 && bad.stderr.contains("--name uses {sede}, which is not a field (did you mean {seed}?)"), "\(bad.stderr)")
    }
}

/// A `reel` process left running (a simulator, a long run) while the test does other things.
final class BackgroundReel: @unchecked Sendable {
    enum Stream { case standardOutput, standardError }
    private let process: Process
    private let lock = NSLock()
    private var out = "", err = ""

    /// `launcher`: a program that starts reel, as `nohup` does (`["/usr/bin/nohup"]`).
    init(_ arguments: [String], in directory: URL = CLI.packageRoot, environment: [String: String] = [:], launcher: [String] = []) throws {
        process = CLI.process(arguments, in: directory, environment: environment)
        if let program = launcher.first {
            process.arguments = launcher.dropFirst() + [process.executableURL!.path] + arguments
            process.executableURL = URL(fileURLWithPath: program)
        }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.out += String(decoding: d, as: UTF8.self) }
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            self?.lock.withLock { self?.err += String(decoding: d, as: UTF8.self) }
        }
        try process.run()
    }

    func waitForLine(containing text: String, in stream: Stream = .standardOutput, timeout: TimeInterval = 30) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let buffer = lock.withLock { stream == .standardOutput ? out : err }
            if let line = buffer.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw CLIError(message: "no line containing '\(text)' within \(timeout) s; stdout: \(out) stderr: \(err)")
    }

    /// The URL a `reel simulator` announces.
    func waitForURL() async throws -> String {
        let line = try await waitForLine(containing: "listening on")
        guard let range = line.range(of: #"http://[0-9.:]+"#, options: .regularExpression) else {
            throw CLIError(message: "no URL in '\(line)'")
        }
        return String(line[range])
    }

    /// Waits until it has its handler for `signal` in place (Linux's /proc says which signals
    /// a process catches): sent earlier, the signal would kill it outright.
    func waitUntilCatching(_ signal: Int32, timeout: TimeInterval = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.isRunning {
            let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
               let mask = UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16),
               mask & (1 << UInt64(signal - 1)) != 0 { return }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw CLIError(message: "no handler for signal \(signal) within \(timeout) s; stderr: \(standardError)")
    }

    func interrupt() { kill(process.processIdentifier, SIGINT) }
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }
    var pid: Int32 { process.processIdentifier }
    /// Everything it has printed so far.
    var standardError: String { lock.withLock { err } }
    var standardOutput: String { lock.withLock { out } }
    func kill9() { kill(process.processIdentifier, SIGKILL) }

    /// Its exit status, or nil if it is still running after `timeout` (it is left running).
    func waitForExit(timeout: TimeInterval) async -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Terminates it and reaps it (a blocking wait, but a short one: reel ends on SIGTERM;
    /// sync so that `defer` can call it).
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

struct CLIError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }

}
