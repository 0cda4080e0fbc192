import Foundation
import Simulator
import Testing
import VideoAPI
@testable import Workflow

/// Never lose or re-buy a result: re-runs reuse, resume, and refuse to guess.
@Suite struct JournalTests {
    static let threeTakes = """
        local v = map({ "dawn", "noon", "dusk" }, function(t) return text_to_video{ prompt = "a lighthouse at " .. t } end)
        log(v[1].reused == true, v[2].reused == true, v[3].reused == true)
        """

    @Test func aFinishedRunIsReusedWithoutAnyRequest() async throws {
        try await LiveHarness.with { live in
            let first = try await live.run(Self.threeTakes)
            #expect(first.logs == ["[log] false\tfalse\tfalse"])
            let before = await live.simulator.state.stats
            let second = try await live.run(Self.threeTakes)
            #expect(second.logs == ["[log] true\ttrue\ttrue"])
            let after = await live.simulator.state.stats
            #expect(after.submissions == before.submissions && after.polls == before.polls && after.downloads == before.downloads)
        }
    }

    /// A video deleted after its run is fetched again on the next, from the same task: shown
    /// and counted as resumed (an earlier run paid for it), never submitted again.
    @Test func aDeletedVideoIsFetchedAgainAsAResumedTake() async throws {
        try await LiveHarness.with { live in
            try await live.run("text_to_video 'kept, then deleted'")
            let name = try #require(live.outputFiles.first)
            let file = live.scripts.directory.appendingPathComponent("out").appendingPathComponent(name).path
            try FileManager.default.removeItem(atPath: file)
            let before = live.progress.events.count
            try await live.run("text_to_video 'kept, then deleted'")
            let events = live.progress.events.dropFirst(before).map(\.1)
            #expect(events.contains { if case .resumed = $0 { true } else { false } }, "\(events)")
            #expect(events.contains { if case .saved = $0 { true } else { false } }, "\(events)")
            #expect(FileManager.default.fileExists(atPath: file))
            #expect(await live.simulator.state.stats.submissions == 1)
        }
    }

    @Test func freshGeneratesAgain() async throws {
        try await LiveHarness.with { live in
            try await live.run("text_to_video 'a'")
            try await live.run("text_to_video{ prompt = 'a', fresh = true }")
            try await live.run("text_to_video 'a'", fresh: true)
            #expect(await live.simulator.state.stats.submissions == 3)
        }
    }

    @Test func identicalRequestsInOneRunAreSeparateTakes() async throws {
        try await LiveHarness.with { live in
            let script = "local a, b = text_to_video 'same', text_to_video 'same'\nlog(a.id ~= b.id)"
            #expect(try await live.run(script).logs == ["[log] true"])
            try await live.run(script)
            #expect(await live.simulator.state.stats.submissions == 2)
        }
    }

    @Test func aChangedRequestIsNotReused() async throws {
        try await LiveHarness.with { live in
            try await live.run("text_to_video{ prompt = 'a', seed = 1 }")
            try await live.run("text_to_video{ prompt = 'a', seed = 2 }")
            #expect(await live.simulator.state.stats.submissions == 2)
        }
    }

    @Test func anExtensionOfAReusedVideoIsReusedToo() async throws {
        try await LiveHarness.with { live in
            let script = "local c = text_to_video 'boat'\nlocal e = extend(c, 'drain')\nlog(e.reused == true)"
            let first = try await live.run(script).logs, second = try await live.run(script).logs
            #expect(first == ["[log] false"])
            #expect(second == ["[log] true"])
            #expect(await live.simulator.state.stats.submissions == 2)
        }
    }

    @Test func anUnfinishedTaskIsPolledAgainNotResubmitted() async throws {
        // Long enough that a loaded machine still stops it before it finishes.
        try await LiveHarness.with({ $0.generationSeconds = 5 }) { live in
            let generator = try live.generator()
            let run = Task {
                var options = WorkflowOptions(scriptPath: try live.scripts.write("script.lua", "text_to_video 'slow'"),
                                              outputDirectory: live.scripts.directory.appendingPathComponent("out").path)
                options.scriptName = "script.lua"
                try await WorkflowRunner.run(options, generator: generator, reporter: RecordingReporter())
            }
            // Stop it once the task id is journaled, as a Ctrl-C would.
            let patience = Date().addingTimeInterval(60)
            while try live.journal.tasks().first?.taskID == nil && Date() < patience {
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            generator.stopSubmitting()
            run.cancel()
            _ = await run.result
            let row = try #require(try live.journal.tasks().first)
            #expect(row.taskID != nil && row.state.isResumable)
            let reporter = try await live.run("local v = text_to_video 'slow'\nlog(v.id)")
            #expect(reporter.logs == ["[log] \(row.taskID!)"])
            #expect(await live.simulator.state.stats.submissions == 1)
            #expect(live.progress.events.contains { if case .resumed = $0.1 { true } else { false } })
        }
    }

    @Test func anUnknownSubmissionIsReportedAndNotResent() async throws {
        // A gateway that ignores Idempotency-Key: a lost reply cannot be retried safely.
        try await LiveHarness.with({ $0.honorsIdempotencyKeys = false; $0.faults.dropAfterSubmit = 1 }) { live in
            let first = try await live.failure("text_to_video 'x'")
            #expect(first.code == "network")
            #expect(first.message.contains("may have been accepted and billed"))
            #expect(try live.journal.tasks().first?.state == .unknown)

            await live.simulator.state.setFaults(SimulatorConfiguration.Faults())
            let second = try await live.failure("text_to_video 'x'")
            #expect(second.code == "network")
            #expect(second.message.contains("never learned its task id") && second.message.contains("--resubmit-unknown"))
            #expect(await live.simulator.state.stats.submissions == 1)

            try await live.run("text_to_video{ prompt = 'x', fresh = true }")
            #expect(await live.simulator.state.stats.submissions == 2)
        }
    }

    @Test func aLostReplyIsResentSafelyWhenTheGatewayHonoursIdempotencyKeys() async throws {
        try await LiveHarness.with { live in
            try await live.run("text_to_video 'learn that the gateway echoes the key'")
            var faults = SimulatorConfiguration.Faults()
            faults.dropAfterSubmit = 0.5
            await live.simulator.state.setFaults(faults)
            try await live.run("map({1,2,3,4,5,6}, function(i) return text_to_video{ prompt = 'p' .. i } end)")
            let stats = await live.simulator.state.stats
            #expect(stats.submissions == 7)
            #expect(stats.replayedSubmissions > 0)
            #expect(stats.duplicateSubmissions == 0)
        }
    }

    @Test func theJournalHoldsEachFilesSHA256() async throws {
        try await LiveHarness.with { live in
            try await live.run(Self.threeTakes)
            let rows = try live.journal.tasks()
            #expect(rows.count == 3)
            for row in rows {
                #expect(row.state == .downloaded)
                #expect(try RequestKey.fileSHA256(row.path!) == row.sha256)
            }
        }
    }

    @Test func aChangedFileIsFetchedAgainNotTrusted() async throws {
        try await LiveHarness.with { live in
            try await live.run("text_to_video 'a'")
            let row = try #require(try live.journal.tasks().first)
            try Data("tampered".utf8).write(to: URL(fileURLWithPath: row.path!))
            try await live.run("text_to_video 'a'")
            #expect(try RequestKey.fileSHA256(row.path!) == row.sha256)
            #expect(await live.simulator.state.stats.submissions == 1)
        }
    }

    @Test func abandonedTemporaryFilesAreSwept() async throws {
        try await LiveHarness.with { live in
            let out = live.scripts.directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            // pid 999999 does not exist: its writer is gone. (A start time of 0: not known.)
            let abandoned = out.appendingPathComponent(".x.mp4.partial-999999-12345-0000abcd")
            let live_ = out.appendingPathComponent(".y.mp4.partial-\(getpid())-0-0000abcd")
            FileManager.default.createFile(atPath: abandoned.path, contents: Data([1]))
            FileManager.default.createFile(atPath: live_.path, contents: Data([1]))
            _ = try live.generator()
            #expect(!FileManager.default.fileExists(atPath: abandoned.path))
            #expect(FileManager.default.fileExists(atPath: live_.path))
        }
    }

    @Test func theRateGateHoldsEveryoneAfterA429() async throws {
        try await LiveHarness.with({ $0.faults.rateLimited = 1; $0.faults.retryAfterSeconds = 1; $0.faults.includeSubmissions = true }) { live in
            let started = Date()
            // The 429s stop once the first has been answered (not after a fixed time: on a loaded
            // machine the first POST can go later than any fixed delay).
            Task {
                while await live.simulator.state.stats.faultsInjected == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
                await live.simulator.state.setFaults(SimulatorConfiguration.Faults())
            }
            try await live.run("parallel(function() text_to_video 'a' end, function() text_to_video 'b' end)")
            // Both waited out the server's Retry-After (1 s) instead of hammering it.
            #expect(Date().timeIntervalSince(started) >= 0.95)
            #expect(await live.simulator.state.stats.faultsInjected <= 4)
        }
    }

    /// A task id the journal would not take (locked past patience, a full disk) is kept in a
    /// recovery file; the next run adopts it once its writer has ended, and only then.
    @Test func aRecoveryFileIsAdoptedByTheNextRun() async throws {
        try await LiveHarness.with { live in
            var faults = SimulatorConfiguration.Faults()
            faults.dropAfterSubmit = 1
            await live.simulator.state.setFaults(faults)
            _ = try? await live.run("text_to_video 'kept aside'")
            let row = try #require(try live.journal.tasks().first)
            #expect(row.state == .unknown)

            // This process is alive: its own file is left alone.
            let mine = try #require(live.journal.keepForRecovery(.init(row: row.id, taskID: "sim-recovered")))
            #expect(try live.journal.adoptRecovered() == 0)
            // As if written by a process that has ended (pid 0 is never a live writer).
            let dead = (live.journal.directory as NSString).appendingPathComponent("recovered-0-1.jsonl")
            try FileManager.default.moveItem(atPath: mine, toPath: dead)
            #expect(try live.journal.adoptRecovered() == 1)
            #expect(!FileManager.default.fileExists(atPath: dead))
            let mended = try #require(try live.journal.tasks().first)
            #expect(mended.state == .submitted && mended.taskID == "sim-recovered")
        }
    }

    /// Ctrl-C while a claim waits for the journal (another program holds it locked): the stop
    /// waits for the claim and for its row to say that nothing was sent. Before, it returned at
    /// once and the process could end with the row still `submitting`, which the next run
    /// reads as a POST of unknown outcome.
    @Test(.timeLimit(.minutes(5)))
    func aStopWaitsForAClaimInTheJournalsQueueAndItsOutcome() async throws {
        try await LiveHarness.with { live in
            let generator = try live.generator()
            let journalPath = live.scripts.directory.appendingPathComponent(".reel/journal.sqlite").path
            let locked = live.scripts.directory.appendingPathComponent("locked").path
            let locker = Process()
            locker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            locker.arguments = ["python3", "-c", """
                import sqlite3, time, sys
                db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
                db.execute('BEGIN IMMEDIATE'); open(sys.argv[2], 'w').close(); time.sleep(1.5); db.execute('COMMIT')
                """, journalPath, locked]
            try locker.run()
            while !FileManager.default.fileExists(atPath: locked) { try await Task.sleep(nanoseconds: 10_000_000) }

            let request = try RequestParser(caller: "text_to_video", expectedMode: .text, source: .wire).parse([("prompt", "held")]).request
            let generation = Task { try await generator.generate(request, options: GenerationOptions()) }
            try await Task.sleep(nanoseconds: 300_000_000)  // its claim waits for the lock
            generator.stopSubmitting()
            await generator.waitForSubmissionsInFlight(timeout: 60)
            let atStop = try live.journal.tasks().map(\.state)
            _ = await generation.result
            while locker.isRunning { try await Task.sleep(nanoseconds: 10_000_000) }
            let atEnd = try live.journal.tasks().map(\.state)
            #expect(atStop == atEnd, "the stop returned before the claim's row was settled")
            #expect(!atEnd.contains(.submitting))
            #expect(await live.simulator.state.stats.submissions == 0)
        }
    }

    /// Claims arriving together share transactions (group commit): each caller still gets its
    /// own row (exactly as stored), in the order the claims were handed in, and one that fails (here: a run that
    /// does not exist, refused by the foreign key) fails alone, rolled back in its savepoint.
    @Test func claimsCommittedTogetherKeepTheirOrderAndFailAlone() async throws {
        let directory = NSTemporaryDirectory() + "reel-group-commit-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try Journal(directory: directory)
        let run = try journal.beginRun(script: "s.lua", baseURL: "http://gateway")
        let request = try RequestParser(caller: "text_to_video", expectedMode: .text, source: .wire)
            .parse([("prompt", .string("p")), ("duration", .int(4))]).request
        func submission(_ n: Int, run: Int64) -> Journal.NewSubmission {
            Journal.NewSubmission(key: "key-\(n)", idempotencyKey: "idem-\(n)", runID: run, baseURL: "http://gateway", request: request,
                                  sha256: [:], sent: request.body().encoded(), callSite: "s.lua:\(n)", sequence: n, arguments: nil)
        }
        // Handed in one after another (as the submission order does), committed side by side.
        let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
            for n in 0..<200 {
                let enqueued = AsyncStream<Void>.makeStream()
                group.addTask {
                    do {
                        let claim = try await journal.claim(submission(n, run: n == 77 ? 9_999 : run), fresh: false, resubmitUnknown: false,
                                                            enqueued: { enqueued.continuation.finish() })
                        guard case .submit(let record) = claim, record.key == "key-\(n)" else { return (n, .failure(CancellationError())) }
                        // The claim's row is made in memory, not read back: it must be the row as stored.
                        let stored = try await journal.record(id: record.id)
                        #expect(stored == record)
                        return (n, .success(record.id))
                    } catch {
                        enqueued.continuation.finish()
                        return (n, .failure(error))
                    }
                }
                for await _ in enqueued.stream {}  // the next claim is handed in once this one has its place
            }
            var all: [Int: Result<Int64, any Error>] = [:]
            for try await (n, outcome) in group { all[n] = outcome }
            return all
        }
        #expect(outcomes.count == 200)
        if case .success = outcomes[77] { Issue.record("a claim for a run that does not exist was recorded") }
        let ids = (0..<200).filter { $0 != 77 }.compactMap { try? outcomes[$0]?.get() }
        #expect(ids.count == 199, "every other claim has its row")
        #expect(ids == ids.sorted() && Set(ids).count == 199, "rows follow the order the claims were handed in")
        #expect(try journal.tasks().count == 199)
    }
}
