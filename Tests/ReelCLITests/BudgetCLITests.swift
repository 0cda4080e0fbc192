import Foundation
import Testing

/// A cap on what a run submits, and the ledger of what runs spent, through the real binary.
@Suite struct BudgetCLITests {
    static let tenTakes = """
        local takes = {}
        for i = 1, 10 do takes[i] = "budget take " .. i end
        local results = map(takes, function(p) return text_to_video{ prompt = p, duration = 4 } end, { errors = "collect" })
        local made, refused = 0, 0
        for _, r in ipairs(results) do
          if r.failed then if r.code == "budget" then refused = refused + 1 end else made = made + 1 end
        end
        log("made " .. made .. ", refused " .. refused .. ", used " .. budget().used)
        """

    @Test func aCapSubmitsExactlyWhatFitsEvenAtFullConcurrency() async throws {
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "0.3", "--sample-videos"])
        defer { server.stop() }
        let url = try await server.waitForURL()
        let dir = try HostileConditionsTests.scratch(Self.tenTakes)
        defer { try? FileManager.default.removeItem(at: dir) }
        let environment = ["REEL_BASE_URL": url, "REEL_API_KEY": "sk-budget-0123456789"]

        // Ten 4-second takes, all at once, under a 20-second cap: five are sent, five refused.
        let first = try await CLI.run(["run", "s.lua", "--max-seconds", "20", "--concurrency", "10"], in: dir, environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("[log] made 5, refused 5, used 20"), "\(first.stderr)")
        #expect(HostileConditionsTests.stats(url)["submissions"] as? Int == 5)

        // Run again under the same cap: the five made are reused for free, the other five fit.
        let second = try await CLI.run(["run", "s.lua", "--max-seconds", "20", "--concurrency", "10"], in: dir, environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("[log] made 10, refused 0, used 20"), "\(second.stderr)")
        let submissions = HostileConditionsTests.stats(url)["submissions"] as? Int ?? -1
        #expect(submissions == 10)

        // The ledger adds up against the gateway's own count.
        let spend = try JSONSerialization.jsonObject(with: Data(try await CLI.run(["spend", "--json"], in: dir).stdout.utf8)) as? [[String: Any]]
        let total = try #require(spend?.last)
        print("budget: 10 × 4 s under --max-seconds 20 → 5 submitted, 5 refused; re-run → 5 reused + 5 new; ledger: generated \(total["generated_seconds"] ?? "?") s, reused \(total["reused_seconds"] ?? "?") s; the simulator counted \(submissions) submissions")
        #expect(total["generated_seconds"] as? Int == submissions * 4)
        #expect(total["reused_seconds"] as? Int == 20)
    }

    @Test func checkFindsTheCallThatWouldPassTheCap() async throws {
        let dir = try HostileConditionsTests.scratch("""
            text_to_video{ prompt = 'one', duration = 8 }
            text_to_video{ prompt = 'two', duration = 8 }
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["check", "s.lua", "--max-seconds", "10"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("s.lua:2: text_to_video: not submitted: its 8 s of video would take this run past its budget of 10 s"), "\(result.stderr)")
    }

    /// Prices layer --price over the environment over reel.json; check estimates the money and
    /// --max-cost refuses the call that would pass it.
    @Test func pricesEstimateAndCapMoney() async throws {
        let dir = try HostileConditionsTests.scratch(Self.threeTakes)
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            { "currency": "USD", "prices": {
                "veo3.1-fast-video-720p": { "per_second": 0.10, "per_second_with_audio": 0.15 },
                "veo3.1-video-720p": { "per_second": 0.40 } } }
            """.write(to: dir.appendingPathComponent("reel.json"), atomically: true, encoding: .utf8)

        let models = try await CLI.run(["models", "--json", "--price", "veo3.1-video-720p=0.35"], in: dir,
                                 environment: ["REEL_PRICES_VEO3_1_VIDEO_1080P_PER_SECOND": "0.5"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(models.stdout.utf8)) as? [[String: Any]])
        func price(_ model: String) -> [String: Any]? { list.first { $0["name"] as? String == model }?["price"] as? [String: Any] }
        #expect(price("veo3.1-fast-video-720p")?["source"] as? String == "reel.json")
        #expect(price("veo3.1-video-720p")?["source"] as? String == "--price" && price("veo3.1-video-720p")?["per_second"] as? Double == 0.35)
        #expect(price("veo3.1-video-1080p")?["source"] as? String == "environment")
        #expect(price("veo3.1-video-4k") == nil)

        let check = try await CLI.run(["check", "s.lua"], in: dir)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("1.60 USD") && check.stdout.contains("3.20 USD") && check.stdout.contains("4.80 USD"), "\(check.stdout)")

        let capped = try await CLI.run(["check", "s.lua", "--max-cost", "2"], in: dir)
        #expect(capped.status == 1)
        #expect(capped.stderr.contains("s.lua:3: text_to_video: not submitted: its 3.20 USD would take this run past its budget of 2.00 USD"), "\(capped.stderr)")

        let unpriced = try await CLI.run(["check", "s.lua", "--max-cost", "2", "--config", "missing.json"], in: dir)
        #expect(unpriced.status == 2 && unpriced.stderr.contains("--max-cost needs prices"), "\(unpriced.stderr)")
    }

    /// The live run shows money spent against the script's plan and reuse as money saved; the
    /// ledger shows money at the prices set. (A gateway on loopback: the built-in simulator
    /// shows no money, below.)
    @Test func aRunShowsSpendingAgainstItsPlanAndTheLedgerCountsMoney() async throws {
        let dir = try HostileConditionsTests.scratch(Self.threeTakes + "\nprint(\"script ran\")\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.prices.write(to: dir.appendingPathComponent("reel.json"), atomically: true, encoding: .utf8)
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "0.1", "--sample-videos"])
        defer { server.stop() }
        let gateway = ["REEL_BASE_URL": try await server.waitForURL(), "REEL_API_KEY": "sk-money-0123456789"]

        // 4 × 0.10 + 8 × 0.15 + 8 × 0.40 = 4.80, all new the first time, all reused the second.
        let first = try await CLI.run(["run", "s.lua"], in: dir, environment: gateway)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("the script plans 3 generations, 20 s of video (4.80 USD)"), "\(first.stderr)")
        #expect(first.stdout.contains("Spent 20 s (4.80 USD) of 20 s (4.80 USD) planned"), "\(first.stdout)")
        // The estimate's dry pass leaves no trace: the script's own output appears once.
        #expect(first.stdout.components(separatedBy: "script ran").count == 2, "\(first.stdout)")
        let second = try await CLI.run(["run", "s.lua"], in: dir, environment: gateway)
        #expect(second.stderr.contains("the script plans 3 generations: 3 held by the journal (reused, free), 0 to generate, 0 s of video (0.00 USD)"), "\(second.stderr)")
        #expect(second.stdout.contains("Spent 0 s (0.00 USD) of 0 s (0.00 USD) planned; saved 20 s (4.80 USD) by reusing earlier takes"), "\(second.stdout)")

        let ledger = try await CLI.run(["spend"], in: dir)
        #expect(ledger.stdout.contains("total") && ledger.stdout.contains("20 s 4.80 USD"), "\(ledger.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try await CLI.run(["spend", "--json"], in: dir).stdout.utf8)) as? [[String: Any]])
        let total = try #require(json.last)
        #expect(total["generated_cost"] as? Double == 4.8 && total["reused_cost"] as? Double == 4.8, "\(total)")
        let unpriced = try await CLI.run(["spend", "--config", "none.json"], in: dir)
        #expect(unpriced.stdout.contains("Set prices") && !unpriced.stdout.contains("USD"), "\(unpriced.stdout)")
    }

    /// 4 s at 0.10, 8 s with audio at 0.15, 8 s of the standard model at 0.40: 4.80 in all.
    static let threeTakes = """
        text_to_video{ prompt = 'a', duration = 4 }
        text_to_video{ prompt = 'b', duration = 8, generate_audio = true }
        text_to_video{ prompt = 'c', duration = 8, model = 'veo3.1-video-720p' }
        """

    static let prices = """
        { "prices": { "veo3.1-fast-video-720p": { "per_second": 0.10, "per_second_with_audio": 0.15 },
                      "veo3.1-video-720p": { "per_second": 0.40 } } }
        """

    /// The built-in simulator bills nothing, so its takes are never money: not in the plan,
    /// not in the summary, not in the ledger's table (said apart, listed with --backend
    /// simulator), and history says so.
    @Test func theBuiltInSimulatorIsNeverCountedAsMoney() async throws {
        let dir = try HostileConditionsTests.scratch(Self.threeTakes)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.prices.write(to: dir.appendingPathComponent("reel.json"), atomically: true, encoding: .utf8)

        let run = try await CLI.run(["run", "s.lua", "--sample-videos", "--latency", "0.1"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("the script plans 3 generations, 20 s of video; on the built-in simulator nothing is billed"), "\(run.stderr)")
        #expect(run.stdout.contains("Simulated 20 s of 20 s planned (built-in simulator: nothing billed)"), "\(run.stdout)")
        #expect(!run.stdout.contains("USD") && !run.stderr.contains("USD"), "\(run.stdout)\(run.stderr)")

        let ledger = try await CLI.run(["spend"], in: dir)
        #expect(ledger.stdout.contains("Not counted above: 3 takes on reel's built-in simulator (20 s generated, 0 s reused), which bills nothing"), "\(ledger.stdout)")
        let total = try #require(try JSONSerialization.jsonObject(with: Data(try await CLI.run(["spend", "--json"], in: dir).stdout.utf8)) as? [[String: Any]]).last
        #expect(total?["generated_seconds"] as? Int == 0 && total?["generated_cost"] as? Double == 0, "\(String(describing: total))")
        let simulated = try await CLI.run(["spend", "--backend", "simulator"], in: dir)
        #expect(simulated.stdout.contains("20 s") && !simulated.stdout.contains("USD") && simulated.stdout.contains("nothing billed"), "\(simulated.stdout)")
        let history = try await CLI.run(["history"], in: dir)
        #expect(history.stdout.contains("20 s of video on the built-in simulator (not billed)"), "\(history.stdout)")
    }

    /// The plan counts what the journal holds (free) apart from what is to be generated, and
    /// what the budget refuses; the summary adds up against it; `reel check` says so too.
    @Test func thePlanCountsTheJournalAndTheBudget() async throws {
        let dir = try HostileConditionsTests.scratch("""
            budget{ seconds = 12 }
            map({ "p1", "p2", "p3", "p4", "p5", "p6" }, function(p)
              return text_to_video{ prompt = p, duration = 4 }
            end, { errors = "collect" })
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try await CLI.run(["check", "s.lua"], in: dir)
        #expect(check.stdout.contains("check: ok — 3 requests, 3 refused by the budget (s.lua:3), 0 warnings"), "\(check.stdout)")

        let simulator = ["--sample-videos", "--latency", "0.1"]
        let first = try await CLI.run(["run", "s.lua"] + simulator, in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("the script plans 3 generations, 12 s of video; 3 refused by the budget (s.lua:3)"), "\(first.stderr)")
        #expect(first.stdout.contains("Simulated 12 s of 12 s planned"), "\(first.stdout)")

        // Re-run: the three made are free, three more fit under the same cap.
        let second = try await CLI.run(["run", "s.lua"] + simulator, in: dir)
        #expect(second.stderr.contains("the script plans 6 generations: 3 held by the journal (reused, free), 3 to generate, 12 s of video;"), "\(second.stderr)")
        #expect(second.stdout.contains("Simulated 12 s of 12 s planned; reused 12 s of earlier takes"), "\(second.stdout)")

        let again = try await CLI.run(["check", "s.lua"], in: dir)
        #expect(again.stdout.contains("check: ok — 6 requests (6 held by the journal, 0 to generate), 0 warnings"), "\(again.stdout)")
    }

    /// An extension counts as the 7 s upstream adds, whatever its 'duration' says: in the
    /// plan, the budget, the summary and the ledger.
    @Test func anExtensionCountsTheSevenSecondsUpstreamAdds() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local v = text_to_video{ prompt = 'a kite', duration = 4 }
            extend(v, { prompt = 'it climbs', duration = 4 })
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try await CLI.run(["check", "s.lua"], in: dir)
        #expect(check.stdout.contains("2 requests     11 s") && check.stdout.contains("an extension counts as 7 s"), "\(check.stdout)")
        let capped = try await CLI.run(["check", "s.lua", "--max-seconds", "10"], in: dir)
        #expect(capped.status == 1 && capped.stderr.contains("s.lua:2: extend: not submitted: its 7 s of video would take this run past its budget of 10 s"), "\(capped.stderr)")

        let run = try await CLI.run(["run", "s.lua", "--max-seconds", "11", "--sample-videos", "--latency", "0.1"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Simulated 11 s of 11 s planned"), "\(run.stdout)")
        let ledger = try JSONSerialization.jsonObject(with: Data(try await CLI.run(["spend", "--json", "--backend", "simulator"], in: dir).stdout.utf8)) as? [[String: Any]]
        #expect(ledger?.last?["generated_seconds"] as? Int == 11, "\(String(describing: ledger))")
    }

    /// `history --grep` searches every run, not the last ten, and says what it left out.
    @Test func historyGrepSearchesEveryRun() async throws {
        let dir = try HostileConditionsTests.scratch("text_to_video{ prompt = args.p, duration = 4 }")
        defer { try? FileManager.default.removeItem(at: dir) }
        let simulator = ["--quiet", "--sample-videos", "--latency", "0.05"]
        _ = try await CLI.run(["run", "s.lua", "p=a needle in run one"] + simulator, in: dir)
        for _ in 2...12 { _ = try await CLI.run(["run", "s.lua", "p=hay"] + simulator, in: dir) }

        let found = try await CLI.run(["history", "--grep", "NEEDLE"], in: dir)
        #expect(found.stdout.contains("run 1 ") && found.stdout.contains("a needle in run one"), "\(found.stdout)")
        let some = try await CLI.run(["history", "--grep", "hay", "--limit", "3"], in: dir)
        #expect(some.stdout.contains("run 12 ") && !some.stdout.contains("run 9 "), "\(some.stdout)")
        #expect(some.stdout.contains("… and 8 older runs with matching generations (--limit 11 shows all)"), "\(some.stdout)")
    }

    /// A script the dry pass cannot run without a trace (it writes a file) runs without an
    /// estimate, and writes its file once.
    @Test func aScriptThatWritesFilesRunsOnceWithoutAnEstimate() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local f = assert(io.open("notes.txt", "a"))
            f:write("line\\n")
            f:close()
            text_to_video{ prompt = 'a', duration = 4 }
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try String(contentsOf: dir.appendingPathComponent("notes.txt"), encoding: .utf8) == "line\n")
        #expect(!run.stderr.contains("the script plans") && run.stdout.contains("Simulated 4 s") && !run.stdout.contains("planned"), "\(run.stdout)")
    }
}
