import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Simulator
import Testing

/// The README's guarantees in the conditions people really run reel in: two terminals on one
/// folder, output piped into `head`, a dropped SSH session, a journal another program holds,
/// gateways that echo headers, trickle bytes, answer HTML or refuse connections. Each test
/// drives the real binary and prints its figures.
@Suite struct HostileConditionsTests {
    static func scratch(_ script: String, name: String = "s.lua") throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try script.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        return dir
    }

    static let sweep = """
        local prompts = {}
        for i = 1, 20 do prompts[i] = "hostile sweep take " .. i end
        map(prompts, function(p) return text_to_video{ prompt = p, duration = 4 } end)
        """

    static func simulator(_ extra: [String] = []) async throws -> (BackgroundReel, String) {
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "0.6", "--sample-videos"] + extra)
        return (server, try await server.waitForURL())
    }

    static func gateway(_ url: String) -> [String: String] { ["REEL_BASE_URL": url, "REEL_API_KEY": "sk-hostile-0123456789"] }

    /// How many requests stand in each state, by the newest row of each request.
    static func journalStates(_ dir: URL) async throws -> [String: Int] {
        let rows = CLI.parseJSONArray(try await CLI.run(["history", "--json", "--limit", "1000"], in: dir).stdout)
        var byKey: [String: String] = [:]
        for run in rows {
            for case let task as [String: Any] in (run["tasks"] as? [Any]) ?? [] {
                if let key = task["key"] as? String, let state = task["state"] as? String { byKey[key] = state }
            }
        }
        return byKey.values.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// The simulator's counters, fetched synchronously.
    static func stats(_ url: String) -> [String: Any] {
        guard let data = try? Data(contentsOf: URL(string: url + "/__simulator/stats")!) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// Waits until the simulator has received `count` submissions: a condition, not a time a
    /// loaded machine may not keep (a signal sent before reel is up kills it outright). With
    /// `signal`, sends it the moment they have. The watching runs on a thread of its own: in
    /// the full suite, other tests can hold every thread of the test process's task pool for
    /// seconds, and a signal sent from there arrived after the run had finished its work.
    /// Returns when they had arrived (and the signal was sent).
    @discardableResult
    static func waitForSubmissions(_ count: Int, at url: String, from run: BackgroundReel, thenSend signal: Int32? = nil,
                                   timeout: TimeInterval = 60) async throws -> Date {
        let arrived: Date? = await withCheckedContinuation { done in
            Thread {
                let deadline = Date().addingTimeInterval(timeout)
                while (stats(url)["submissions"] as? Int ?? 0) < count {
                    guard Date() < deadline else { return done.resume(returning: nil) }
                    usleep(5_000)
                }
                if let signal { run.send(signal) }
                done.resume(returning: Date())
            }.start()
        }
        guard let arrived else { throw CLIError(message: "\(count) submissions did not arrive in \(Int(timeout)) s: \(run.standardError)") }
        return arrived
    }

    static func seconds(since start: Date) -> String { String(format: "%.1f s", Date().timeIntervalSince(start)) }

    // MARK: Two runs at once

    @Test(arguments: [2, 3, 5])
    func concurrentRunsOfOneSweepPostEachPromptOnce(runs: Int) async throws {
        let (server, url) = try await Self.simulator()
        defer { server.stop() }
        let dir = try Self.scratch(Self.sweep)
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = (0..<runs).map { _ in
            try? BackgroundReel(["run", "s.lua", "--concurrency", "8", "--quiet"], in: dir, environment: Self.gateway(url))
        }
        var codes: [Int32?] = []
        for run in started { codes.append(await run?.waitForExit(timeout: 120)) }
        let stats = Self.stats(url)
        let history = CLI.parseJSONArray(try await CLI.run(["history", "--json"], in: dir).stdout)
        let perRun = history.map { (($0["tasks"] as? [[String: Any]]) ?? []).filter { $0["state"] as? String == "downloaded" }.count }
        let posts = stats["submissions"] as? Int ?? -1
        print("concurrent runs: \(runs) runs of a 20-prompt sweep in one folder → \(posts) POSTs (\(Double(posts) / 20) per prompt); exits \(codes.map { $0.map(String.init) ?? "hung" }); downloaded per run: \(perRun)")
        #expect(codes.allSatisfy { $0 == 0 }, "\(started.map { $0?.standardError.suffix(1500) ?? "" })")
        #expect(posts == 20)
        #expect(stats["duplicate_submissions"] as? Int == 0)
        #expect(perRun.count == runs && perRun.allSatisfy { $0 == 20 })
    }

    // MARK: Output that goes away, signals

    @Test func aClosedPipeNeitherCrashesNorLosesWork() async throws {
        let (server, url) = try await Self.simulator()
        defer { server.stop() }
        let dir = try Self.scratch(Self.sweep)
        defer { try? FileManager.default.removeItem(at: dir) }
        // `reel run s.lua 2>&1 | head -1`: the reader leaves after the first line.
        let process = CLI.process(["run", "s.lua", "--concurrency", "8"], in: dir, environment: Self.gateway(url))
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        _ = pipe.fileHandleForReading.availableData
        try pipe.fileHandleForReading.close()
        await process.exit()
        let states = try await Self.journalStates(dir)
        print("closed pipe: exit \(process.terminationStatus) (\(process.terminationReason == .uncaughtSignal ? "killed by a signal" : "exited")); journal: \(states)")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(states == ["downloaded": 20])
    }

    @Test(arguments: [SIGTERM, SIGHUP, SIGINT])
    func aStopSignalJournalsThePOSTsInFlight(signal: Int32) async throws {
        let (server, url) = try await Self.simulator(["--submit-delay", "1.5"])
        defer { server.stop() }
        let dir = try Self.scratch(Self.sweep)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundReel(["run", "s.lua", "--concurrency", "8"], in: dir, environment: Self.gateway(url))
        let sent = try await Self.waitForSubmissions(8, at: url, from: run, thenSend: signal)  // on the wire, held by --submit-delay
        let code = await run.waitForExit(timeout: 60)
        let took = Self.seconds(since: sent)
        let states = try await Self.journalStates(dir)
        let again = try await CLI.run(["run", "s.lua", "--concurrency", "8"], in: dir, environment: Self.gateway(url))
        let stats = Self.stats(url)
        let name = signal == SIGTERM ? "SIGTERM" : signal == SIGHUP ? "SIGHUP" : "SIGINT"
        print("\(name) with 8 POSTs in flight: exit \(code.map(String.init) ?? "hung") \(took) after the signal; journal \(states); re-run exit \(again.status), POSTs in all \(stats["submissions"] ?? "?") for 20 prompts")
        #expect(code == 130, "\(run.standardError)")
        #expect(states["submitting"] == nil && states["unknown"] == nil)
        #expect(again.status == 0, "\(again.stderr.suffix(800))")
        #expect(stats["submissions"] as? Int == 20)
    }

    /// `nohup reel run … &`, then the SSH session ends: the hangup was asked to be ignored,
    /// and is. (reel watched SIGHUP regardless, so the run stopped with the session.)
    @Test func aRunStartedWithNohupOutlivesTheHangup() async throws {
        let (server, url) = try await Self.simulator(["--submit-delay", "1"])
        defer { server.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'left running', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundReel(["run", "s.lua"], in: dir, environment: Self.gateway(url), launcher: ["/usr/bin/nohup"])
        defer { run.stop() }
        try await Self.waitForSubmissions(1, at: url, from: run, thenSend: SIGHUP)
        let code = await run.waitForExit(timeout: 60)
        let states = try await Self.journalStates(dir)
        print("nohup, then SIGHUP with a POST in flight: exit \(code.map(String.init) ?? "hung"); journal \(states)")
        #expect(code == 0, "\(run.standardError)")
        #expect(states["downloaded"] == 1)
    }

    @Test func aRunHeldUpPastItsTimeLimitsKeepsTheSubmissionItWasWaitingFor() async throws {
        // Ctrl-Z with a POST on the wire, and `fg` 10 s later: every time limit is overdue when
        // reel runs again, and the reply of a gateway that does not replay submissions comes
        // 1 s after that. Cut off then, it would be a task billed whose id reel never learns.
        let (server, url) = try await Self.simulator(["--submit-delay", "11", "--ignore-idempotency-keys"])
        defer { server.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'held up', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundReel(["run", "s.lua", "--timeout", "8"], in: dir, environment: Self.gateway(url))
        try await Self.waitForSubmissions(1, at: url, from: run, thenSend: SIGSTOP)
        try await Task.sleep(nanoseconds: 10_000_000_000)
        run.send(SIGCONT)
        let code = await run.waitForExit(timeout: 60)
        let states = try await Self.journalStates(dir)
        // The generation's own --timeout has passed, so this run ends with an error, knowing the
        // task; a run with time to spare polls it instead of paying for it again.
        let again = try await CLI.run(["run", "s.lua"], in: dir, environment: Self.gateway(url))
        let stats = Self.stats(url)
        print("held up 10 s (SIGSTOP) with a POST in flight: exit \(code.map(String.init) ?? "hung"); journal \(states); re-run exit \(again.status), POSTs in all \(stats["submissions"] ?? "?")")
        #expect(code == 1, "\(run.standardError)")
        #expect(run.standardError.contains("--timeout") && !run.standardError.contains("may have been accepted"), "\(run.standardError)")
        #expect(states["unknown"] == nil && states["submitting"] == nil, "\(states)")
        #expect(again.status == 0, "\(again.stderr.suffix(800))")
        #expect(stats["submissions"] as? Int == 1)
    }

    @Test func aRunawayScriptStopsAtOnceOnSIGTERM() async throws {
        let dir = try Self.scratch("while true do xpcall(function() while true do end end, function(e) while true do end end) end\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundReel(["run", "s.lua"], in: dir)
        try await run.waitUntilCatching(SIGTERM)
        try await Task.sleep(nanoseconds: 300_000_000)  // into the loop
        let sent = Date()
        run.send(SIGTERM)
        let code = await run.waitForExit(timeout: 30)
        print("runaway script (xpcall with a looping handler): exit \(code.map(String.init) ?? "hung") \(Self.seconds(since: sent)) after SIGTERM")
        #expect(code == 130)
        let limited = try await CLI.run(["run", "--dry-run", "--max-instructions", "2000000", "s.lua"], in: dir, timeout: 30)
        #expect(limited.status == 1 && limited.stderr.contains("instruction limit reached"), "\(limited.stderr)")
    }

    // MARK: A journal another program holds

    @Test func aLockedJournalIsWaitedOutNotLost() async throws {
        let (server, url) = try await Self.simulator(["--submit-delay", "1"])
        defer { server.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'held journal', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Create the journal, then let another program hold a write lock while the POST is out.
        try "text_to_video{ prompt = 'warm-up', duration = 4 }\n".write(to: dir.appendingPathComponent("w.lua"), atomically: true, encoding: .utf8)
        #expect(try await CLI.run(["run", "w.lua"], in: dir, environment: Self.gateway(url)).status == 0)
        let run = try BackgroundReel(["run", "s.lua"], in: dir, environment: Self.gateway(url))
        try await Self.waitForSubmissions(2, at: url, from: run)  // this run's POST (after the warm-up's), held by --submit-delay
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        locker.arguments = ["python3", "-c", """
            import sqlite3, time
            db = sqlite3.connect('.reel/journal.sqlite', isolation_level=None, timeout=30)
            db.execute('BEGIN IMMEDIATE'); time.sleep(15); db.execute('COMMIT')
            """]
        locker.currentDirectoryURL = dir
        try locker.run()
        let code = await run.waitForExit(timeout: 90)
        await locker.exit()
        let states = try await Self.journalStates(dir)
        print("journal locked 15 s by another process during a POST: exit \(code.map(String.init) ?? "hung"); journal \(states)")
        #expect(code == 0, "\(run.standardError)")
        #expect(states["downloaded"] == 2)
    }

    /// A journal another program holds when a run starts. Opening writes (GRDB makes sure
    /// the WAL holds a commit), and that failed after SQLite's 1-s busy wait: every call of
    /// the script failed with "database is locked". Now the run says it waits, Ctrl-C stops
    /// the wait at once, and once the lock is let go the run goes ahead.
    @Test func aJournalLockedBeforeTheRunStartsIsWaitedOutAndSaidSo() async throws {
        let (server, url) = try await Self.simulator()
        defer { server.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'after the lock', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        try "text_to_video{ prompt = 'warm-up', duration = 4 }\n".write(to: dir.appendingPathComponent("w.lua"), atomically: true, encoding: .utf8)
        #expect(try await CLI.run(["run", "w.lua"], in: dir, environment: Self.gateway(url)).status == 0)
        // The warm-up's exit checkpointed and removed the WAL: opening must now write. The
        // lock is held until the holder is killed (its lock goes with it), so each step below
        // waits for a condition, not for a time a loaded machine may not keep.
        func holdTheLock() async throws -> Process {
            let locked = dir.appendingPathComponent("locked")
            try? FileManager.default.removeItem(at: locked)
            let locker = Process()
            locker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            locker.arguments = ["python3", "-c", """
                import sqlite3, time
                db = sqlite3.connect('.reel/journal.sqlite', isolation_level=None)
                db.execute('BEGIN IMMEDIATE'); open('locked', 'w').close(); time.sleep(600)
                """]
            locker.currentDirectoryURL = dir
            try locker.run()
            while !FileManager.default.fileExists(atPath: locked.path) { try await Task.sleep(nanoseconds: 10_000_000) }
            return locker
        }
        func letGo(_ locker: Process) {
            kill(locker.processIdentifier, SIGKILL)
            locker.waitUntilExit()
        }

        // Ctrl-C while the run waits to open the journal.
        var locker = try await holdTheLock()
        let stopped = try BackgroundReel(["run", "s.lua"], in: dir, environment: Self.gateway(url))
        defer { stopped.stop() }
        _ = try await stopped.waitForLine(containing: "is locked by another program", in: .standardError)
        let pressed = Date()
        stopped.interrupt()
        let stoppedCode = await stopped.waitForExit(timeout: 20)
        let stopSeconds = Date().timeIntervalSince(pressed)
        letGo(locker)

        // The lock let go while the run waits: it goes ahead.
        locker = try await holdTheLock()
        let waited = try BackgroundReel(["run", "s.lua"], in: dir, environment: Self.gateway(url))
        defer { waited.stop() }
        _ = try await waited.waitForLine(containing: "is locked by another program", in: .standardError)
        letGo(locker)
        let waitedCode = await waited.waitForExit(timeout: 60)
        print("journal locked at start: Ctrl-C stopped the wait in \(String(format: "%.1f", stopSeconds)) s (exit \(stoppedCode.map(String.init) ?? "hung")); once let go, the waiting run exited \(waitedCode.map(String.init) ?? "hung")")
        #expect(stoppedCode == 130, "\(stopped.standardOutput)\(stopped.standardError)")
        #expect(stopSeconds < 10)
        #expect(waitedCode == 0, "\(waited.standardOutput)\(waited.standardError)")
        #expect(waited.standardOutput.contains("1 video generated"), "\(waited.standardOutput)")
        #expect(Self.stats(url)["submissions"] as? Int == 2)  // the warm-up's and this one's: nothing from the stopped run
    }

    // MARK: Unknown outcomes

    /// Three takes bought through a simulated gateway in a new folder: the folder, the gateway.
    static func threeTakesBought() async throws -> (URL, RunningSimulator) {
        var configuration = SimulatorConfiguration()
        configuration.generationSeconds = 0.2
        let simulator = try await SimulatorServer(configuration: configuration).start()
        let dir = try Self.scratch("for i = 1, 3 do text_to_video{ prompt = 'kept take ' .. i, duration = 4 } end\n")
        let first = try await CLI.run(["run", "s.lua"], in: dir, environment: Self.gateway(simulator.baseURL))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(await simulator.state.stats.submissions == 3)
        return (dir, simulator)
    }

    /// Runs `body`, then awaits the simulator's stop whether `body` returns or throws: a stop
    /// left to a Task nobody awaits outlives the test.
    static func stopping(_ simulator: RunningSimulator, after body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
    }

    static func sqlite(_ dir: URL, _ sql: String) async throws -> String {
        try await Shell.run("/usr/bin/env", ["sqlite3", dir.appendingPathComponent(".reel/journal.sqlite").path, sql])
    }

    @Test(arguments: ["emptied", "deleted"])
    func aJournalThatKnowsNothingBesideVideosIsRefusedNotPaidAgain(damage: String) async throws {
        let (dir, simulator) = try await Self.threeTakesBought()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.stopping(simulator) {
            let journal = dir.appendingPathComponent(".reel/journal.sqlite").path
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: journal + suffix) }
            if damage == "emptied" { #expect(truncate(journal, 0) == 0) } else { try FileManager.default.removeItem(atPath: journal) }

            let refused = try await CLI.run(["run", "s.lua"], in: dir, environment: Self.gateway(simulator.baseURL))
            print("journal \(damage) beside 3 videos: exit \(refused.status), POSTs \(await simulator.state.stats.submissions - 3); \(refused.stderr.split(separator: "\n").last ?? "")")
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("knows no takes") && refused.stderr.contains("--new-journal") && refused.stderr.contains("paid for, again"), "\(refused.stderr)")
            #expect(await simulator.state.stats.submissions == 3)

            // Asked for explicitly, it runs and pays again.
            let anyway = try await CLI.run(["run", "s.lua", "--new-journal"], in: dir, environment: Self.gateway(simulator.baseURL))
            #expect(anyway.status == 0, "\(anyway.stderr)")
            #expect(await simulator.state.stats.submissions == 6)
        }
    }

    @Test func aDamagedIndexOfTheJournalIsRebuiltNotPaidAgain() async throws {
        let (dir, simulator) = try await Self.threeTakesBought()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.stopping(simulator) {
            // The index on the request key emptied while its table keeps every row: quick_check
            // still says ok, a lookup finds nothing, and the run would buy every take again.
            _ = try await Self.sqlite(dir, """
                DROP INDEX task_on_key; CREATE INDEX task_on_key ON task(key) WHERE id < 0;
                PRAGMA writable_schema = ON;
                UPDATE sqlite_schema SET sql = 'CREATE INDEX "task_on_key" ON "task"("key")' WHERE name = 'task_on_key';
                """)
            #expect(try await Self.sqlite(dir, "PRAGMA quick_check").contains("ok"))
            #expect(try await Self.sqlite(dir, "PRAGMA integrity_check").contains("missing from index task_on_key"))

            let again = try await CLI.run(["run", "s.lua"], in: dir, environment: Self.gateway(simulator.baseURL))
            let posts = await simulator.state.stats.submissions - 3
            print("damaged journal index: exit \(again.status), POSTs \(posts); \(again.stderr.split(separator: "\n").first(where: { $0.contains("REINDEX") }) ?? "")")
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stderr.contains("damaged index") && again.stderr.contains("REINDEX"), "\(again.stderr)")
            #expect(posts == 0)
            #expect(try await Self.sqlite(dir, "PRAGMA integrity_check").contains("ok"))
        }
    }

    @Test func anUnreadableJournalNeverAdvisesAStepThatPaysAgainUnsaid() async throws {
        let (dir, simulator) = try await Self.threeTakesBought()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.stopping(simulator) {
            let journal = dir.appendingPathComponent(".reel/journal.sqlite").path
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: journal + suffix) }
            try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: journal))
            let result = try await CLI.run(["run", "s.lua"], in: dir, environment: Self.gateway(simulator.baseURL))
            #expect(result.status != 0)
            #expect(result.stderr.contains("cannot open the journal"), "\(result.stderr)")
            #expect(!result.stderr.contains("choose another folder with --state"))
            #expect(result.stderr.contains("--state ANOTHER_FOLDER would start an empty journal") && result.stderr.contains("paid for, again"), "\(result.stderr)")
            #expect(await simulator.state.stats.submissions == 3)
        }
    }

    @Test func unknownOutcomesAreListedAndOnlyTheyAreResubmitted() async throws {
        var configuration = SimulatorConfiguration()
        configuration.generationSeconds = 0.3
        configuration.honorsIdempotencyKeys = false
        let simulator = try await SimulatorServer(configuration: configuration).start()
        try await Self.stopping(simulator) {
            let dir = try Self.scratch("""
                text_to_video{ prompt = 'kept', duration = 4 }
                local ok = pcall(text_to_video, { prompt = 'lost reply', duration = 4 })
                text_to_video{ prompt = 'after', duration = 4 }
                """)
            defer { try? FileManager.default.removeItem(at: dir) }
            let environment = Self.gateway(simulator.baseURL)
            #expect(try await CLI.run(["run", "s.lua"], in: dir, environment: environment).status == 0)

            // The same script again, fresh, on a gateway that drops the reply after creating the task.
            var faults = SimulatorConfiguration.Faults()
            faults.dropAfterSubmit = 1
            await simulator.state.setFaults(faults)
            try "text_to_video{ prompt = 'a new take whose reply is lost', duration = 4 }\n".write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
            let lost = try await CLI.run(["run", "s.lua"], in: dir, environment: environment)
            #expect(lost.status == 1)
            #expect(lost.stderr.contains("1 submission has an unknown outcome"), "\(lost.stderr)")
            #expect(lost.stderr.contains("s.lua:1") && lost.stderr.contains("journal row"))
            #expect(lost.stderr.contains("reel run s.lua --resubmit-unknown"))
            let before = await simulator.state.stats.submissions

            // Plain re-run: nothing is sent again.
            await simulator.state.setFaults(SimulatorConfiguration.Faults())
            let plain = try await CLI.run(["run", "s.lua"], in: dir, environment: environment)
            #expect(plain.status == 1 && plain.stderr.contains("--resubmit-unknown"))
            #expect(await simulator.state.stats.submissions == before)

            // --resubmit-unknown: exactly that one.
            let resubmitted = try await CLI.run(["run", "s.lua", "--resubmit-unknown"], in: dir, environment: environment)
            #expect(resubmitted.status == 0, "\(resubmitted.stderr)")
            let after = await simulator.state.stats.submissions
            print("unknown outcome: listed with its line and the command; plain re-run sent \(0); --resubmit-unknown sent \(after - before)")
            #expect(after == before + 1)
        }
    }

    @Test func aRequestRefusedBeforeItsFirstByteIsNotSentNotUnknown() async throws {
        let simulator = try await SimulatorServer(configuration: SimulatorConfiguration()).start()
        try await Self.stopping(simulator) {
            // A newline in the host ("%0A") gets past URL parsing but not AsyncHTTPClient's check of
            // the Host header it makes: the request is refused before a byte of it is written, as
            // one carrying a key with a newline was.
            let refusedURL = simulator.baseURL.replacingOccurrences(of: "127.0.0.1", with: "127.0.0.1%0A")
            let dir = try Self.scratch("text_to_video{ prompt = 'never left', duration = 4 }\n")
            defer { try? FileManager.default.removeItem(at: dir) }
            for attempt in 1...2 {
                let result = try await CLI.run(["run", "s.lua"], in: dir, environment: Self.gateway(refusedURL))
                print("refused before sending, run \(attempt): exit \(result.status); \(result.stderr.split(separator: "\n").last ?? "")")
                #expect(result.status == 1)
                #expect(result.stderr.contains("nothing was sent"), "\(result.stderr)")
                #expect(!result.stderr.contains("may have been billed") && !result.stderr.contains("--resubmit-unknown"), "\(result.stderr)")
                #expect(try await Self.journalStates(dir) == ["failed": 1])
            }
            #expect(await simulator.state.stats.submissions == 0)
        }
    }

    @Test func ctrlCDuringARateLimitBackoffLeavesNothingUnknown() async throws {
        let (server, url) = try await Self.simulator(["--rate-limit-rate", "1", "--retry-after", "30"])
        defer { server.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'patient', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundReel(["run", "s.lua"], in: dir, environment: Self.gateway(url))
        _ = try await run.waitForLine(containing: "asked to wait 30 s", in: .standardError)
        let sent = Date()
        run.interrupt()
        let code = await run.waitForExit(timeout: 30)
        let took = Date().timeIntervalSince(sent)
        let states = try await Self.journalStates(dir)
        print("Ctrl-C during a 30 s Retry-After: exit \(code.map(String.init) ?? "hung") \(String(format: "%.1f s", took)) later; journal \(states)")
        if code != 130 { print(run.standardError) }
        #expect(code == 130)
        #expect(took < 15, "Ctrl-C waited out the Retry-After")
        #expect(states == ["failed": 1])
    }

    // MARK: The key

    @Test func aGatewayThatEchoesTheKeyNeverGetsItPrintedJournaledOrIntoLua() async throws {
        let key = "sk-echoed-\(UUID().uuidString)"
        let (server, url) = try await Self.simulator(["--require-key", "sk-the-right-one-000", "--echo-authorization"])
        defer { server.stop() }
        let dir = try Self.scratch("""
            local ok, e = pcall(text_to_video, "a kite")
            log("lua sees: " .. tostring(e.message))
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        for sandbox in [false, true] {
            let result = try await CLI.run(["run", "s.lua", "--verbose"] + (sandbox ? ["--sandbox"] : []), in: dir,
                                     environment: ["REEL_BASE_URL": url, "REEL_API_KEY": key])
            #expect(result.stderr.contains("lua sees:") && result.stderr.contains("Bearer [redacted]"), "\(result.stderr)")
            #expect(!(result.stdout + result.stderr).contains(key))
        }
        let journal = try Data(contentsOf: dir.appendingPathComponent(".reel/journal.sqlite"))
        let wal = (try? Data(contentsOf: dir.appendingPathComponent(".reel/journal.sqlite-wal"))) ?? Data()
        #expect(journal.range(of: Data(key.utf8)) == nil && wal.range(of: Data(key.utf8)) == nil)
        print("echoed key: printed 0 times, journaled 0 times, seen by Lua 0 times (with and without --sandbox)")
    }

    @Test func aRedirectToAnotherOriginNeverCarriesTheKey() async throws {
        let key = "sk-redirected-0123456789"
        let (server, url) = try await Self.simulator(["--require-key", key, "--redirect-downloads"])
        defer { server.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'via a CDN', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "s.lua"], in: dir, environment: ["REEL_BASE_URL": url, "REEL_API_KEY": key])
        let stats = Self.stats(url)
        print("redirect to another origin: exit \(result.status); CDN downloads \(stats["cdn_downloads"] ?? "?"), with the key \(stats["cdn_downloads_with_authorization"] ?? "?")")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(stats["cdn_downloads"] as? Int == 1)
        #expect(stats["cdn_downloads_with_authorization"] as? Int == 0)
    }

    @Test func aKeyFileKeepsTheKeyOutOfEveryEnvironment() async throws {
        let key = "sk-from-file-\(UUID().uuidString)"
        let (server, url) = try await Self.simulator(["--require-key", key])
        defer { server.stop() }
        let dir = try Self.scratch(SafetyCLITests.hunt + """

            local stat = io.open("/proc/self/stat"):read("a")
            local ppid = stat:match("%) %S+ (%d+)")
            local pe = io.open("/proc/" .. ppid .. "/environ", "rb")
            log("parent environ holds the key: " .. tostring(pe ~= nil and pe:read("a"):find(key, 1, true) ~= nil))
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("key.txt")
        try (key + "\n").write(to: keyFile, atomically: true, encoding: .utf8)
        // Launched through a shell, as a user would: the shell is the parent a script can read.
        let result = try await CLI.run(["run", "s.lua", "needle=\(String(key.reversed()))"], in: dir,
                                 environment: ["REEL_BASE_URL": url, "REEL_API_KEY_FILE": keyFile.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[log] found: nothing"), "\(result.stderr)")
        #expect(result.stderr.contains("parent environ holds the key: false"), "\(result.stderr)")
    }

    @Test func theSandboxConfinesReadsToTheScriptFolderAndOut() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("reel-secret-\(UUID().uuidString).png")
        try "id_rsa contents".write(to: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: outside) }
        let dir = try Self.scratch("""
            local f, why = io.open(args.secret)
            log("direct: " .. tostring(why))
            local g, why2 = io.open("out/link")
            log("through a symlink in --out: " .. tostring(why2))
            local ok, e = pcall(dofile, args.secret)
            log("dofile: " .. tostring(ok) .. " " .. tostring(e))
            local ok2, e2 = pcall(image_to_video, { prompt = "x", image = args.secret })
            log("as an input: " .. tostring(e2.message or e2))
            log("own folder: " .. tostring(io.open("s.lua") ~= nil))
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("out/link").path, withDestinationPath: outside.path)
        let result = try await CLI.run(["run", "--dry-run", "--sandbox", "s.lua", "secret=\(outside.path)"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let log = result.stderr
        #expect(log.contains("direct: \(outside.path): --sandbox allows reading only under"), "\(log)")
        #expect(log.contains("through a symlink in --out: out/link: --sandbox allows reading only under"), "\(log)")
        #expect(log.contains("dofile: false"), "\(log)")
        #expect(log.contains("as an input: image_to_video: '") && log.contains("--sandbox allows local inputs only from"), "\(log)")
        #expect(log.contains("own folder: true"))
        #expect(!log.contains("id_rsa contents"))
    }

    // MARK: Limits that bound

    @Test(arguments: ["--trickle-replies", "--stall-downloads", "retry-after", "refused"])
    func aTimeoutBoundsEverySlowGateway(gateway: String) async throws {
        var url: String
        var server: BackgroundReel?
        switch gateway {
        case "refused":
            url = "http://127.0.0.1:9"  // discard port: nothing listens
        case "retry-after":
            let (s, u) = try await Self.simulator(["--rate-limit-rate", "1", "--retry-after", "86400"])
            (server, url) = (s, u)
        default:
            let (s, u) = try await Self.simulator([gateway])
            (server, url) = (s, u)
        }
        defer { server?.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'slow gateway', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A gateway that says no at once is given up on at once: its --timeout is long, so a
        // run that waited it out would stand out even on a loaded machine, where starting and
        // ending a debug build can take seconds. A slow gateway is cut off at its --timeout.
        let givesUpAtOnce = gateway == "refused" || gateway == "retry-after"
        let limit = givesUpAtOnce ? 60 : 10
        let started = Date()
        let result = try await CLI.run(["run", "s.lua", "--timeout", String(limit)], in: dir, environment: Self.gateway(url), timeout: 120)
        let took = Date().timeIntervalSince(started)
        print("--timeout \(limit) against \(gateway): exit \(result.status) in \(String(format: "%.1f", took)) s — \(result.stderr.split(separator: "\n").last { $0.hasPrefix("error:") } ?? "")")
        #expect(result.status == 1)
        #expect(took < Double(givesUpAtOnce ? limit / 2 : limit + 30))
        switch gateway {
        case "refused":
            #expect(result.stderr.contains("cannot connect to http://127.0.0.1:9"), "\(result.stderr)")
        case "retry-after":
            #expect(result.stderr.contains("asked to wait 86400 s"), "\(result.stderr)")
        default:
            #expect(result.stderr.contains("--timeout"), "\(result.stderr)")
        }
    }

    // MARK: Downloads

    @Test func aWebPageIsNeverSavedAsTheVideo() async throws {
        let (server, url) = try await Self.simulator(["--html-results"])
        defer { server.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'html', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "s.lua"], in: dir, environment: Self.gateway(url))
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)) ?? []
        let states = try await Self.journalStates(dir)
        print("HTML result: exit \(result.status); files \(files); journal \(states)")
        #expect(result.status == 1)
        #expect(result.stderr.contains("is not a video: the server sent text/html"), "\(result.stderr)")
        #expect(files.isEmpty)
        #expect(states["downloaded"] == nil)
    }

    @Test func anUnwritableOutIsFoundBeforeAnythingIsPaid() async throws {
        let (server, url) = try await Self.simulator()
        defer { server.stop() }
        let dir = try Self.scratch("text_to_video{ prompt = 'nowhere to go', duration = 4 }\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        try "a file".write(to: dir.appendingPathComponent("blocker"), atomically: true, encoding: .utf8)
        let result = try await CLI.run(["run", "s.lua", "--out", "blocker/videos"], in: dir, environment: Self.gateway(url))
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot create the output folder 'blocker/videos' (--out)"), "\(result.stderr)")
        let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(string: url + "/__simulator/stats")!)) as? [String: Any]
        #expect(stats?["submissions"] as? Int == 0)
    }

    @Test func savingToAnEmptyPathSaysSo() async throws {
        let dir = try Self.scratch("local v = text_to_video 'x'\nv:save('')\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "--dry-run", "s.lua"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("s.lua:2: Video:save: the path is empty"), "\(result.stderr)")
    }
}
