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

    @Test func aCapSubmitsExactlyWhatFitsEvenAtFullConcurrency() throws {
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "0.3"])
        defer { server.stop() }
        let url = try server.waitForURL()
        let dir = try HostileConditionsTests.scratch(Self.tenTakes)
        defer { try? FileManager.default.removeItem(at: dir) }
        let environment = ["REEL_BASE_URL": url, "REEL_API_KEY": "sk-budget-0123456789"]

        // Ten 4-second takes, all at once, under a 20-second cap: five are sent, five refused.
        let first = try CLI.run(["run", "s.lua", "--max-seconds", "20", "--concurrency", "10"], in: dir, environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("[log] made 5, refused 5, used 20"), "\(first.stderr)")
        #expect(HostileConditionsTests.stats(url)["submissions"] as? Int == 5)

        // Run again under the same cap: the five made are reused for free, the other five fit.
        let second = try CLI.run(["run", "s.lua", "--max-seconds", "20", "--concurrency", "10"], in: dir, environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("[log] made 10, refused 0, used 20"), "\(second.stderr)")
        let submissions = HostileConditionsTests.stats(url)["submissions"] as? Int ?? -1
        #expect(submissions == 10)

        // The ledger adds up against the gateway's own count.
        let spend = try JSONSerialization.jsonObject(with: Data(try CLI.run(["spend", "--json"], in: dir).stdout.utf8)) as? [[String: Any]]
        let total = try #require(spend?.last)
        print("budget: 10 × 4 s under --max-seconds 20 → 5 submitted, 5 refused; re-run → 5 reused + 5 new; ledger: generated \(total["generated_seconds"] ?? "?") s, reused \(total["reused_seconds"] ?? "?") s; the simulator counted \(submissions) submissions")
        #expect(total["generated_seconds"] as? Int == submissions * 4)
        #expect(total["reused_seconds"] as? Int == 20)
    }

    @Test func checkFindsTheCallThatWouldPassTheCap() throws {
        let dir = try HostileConditionsTests.scratch("""
            text_to_video{ prompt = 'one', duration = 8 }
            text_to_video{ prompt = 'two', duration = 8 }
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run(["check", "s.lua", "--max-seconds", "10"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("s.lua:2: text_to_video: not submitted: its 8 s of video would take this run past its budget of 10 s"), "\(result.stderr)")
    }
}
