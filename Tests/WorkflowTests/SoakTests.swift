import Foundation
import Simulator
import Testing
import VideoAPI
@testable import Workflow

/// The guarantee at scale: hundreds of generations through a gateway that misbehaves a
/// fifth of the time lose nothing and buy nothing twice. Prints its figures.
@Suite struct SoakTests {
    @Test func fiveHundredTasksThroughTwentyPercentFaults() async throws {
        try await LiveHarness.with({ $0.generationSeconds = 0.05; $0.seed = 20261125 }, concurrency: 64,
                                   client: { $0.retry = RetryPolicy(maxAttempts: 12, baseDelay: 0.01, maxDelay: 0.2) }) { live in
            // reel meets the gateway once (its first submission shows whether it honours Idempotency-Key).
            try await live.run("text_to_video 'first contact'")
            var faults = SimulatorConfiguration.Faults()
            faults.rateLimited = 0.04
            faults.retryAfterSeconds = 0
            faults.serverError = 0.04
            faults.dropConnection = 0.04
            faults.dropAfterSubmit = 0.04
            faults.malformed = 0.04
            await live.simulator.state.setFaults(faults)
            let before = await live.simulator.state.stats
            let started = Date()
            try await live.run("""
                local prompts = {}
                for i = 1, 500 do prompts[i] = "soak prompt " .. i end
                local videos = map(prompts, function(p) return text_to_video{ prompt = p, duration = 4 } end, { concurrency = 500 })
                assert(#videos == 500)
                """)
            let seconds = Date().timeIntervalSince(started)
            let stats = await live.simulator.state.stats
            let rows = try live.journal.tasks().filter { $0.prompt.hasPrefix("soak prompt") }
            let files = live.outputFiles.filter { $0.hasSuffix(".mp4") }.count - 1
            let partial = live.outputFiles.filter { $0.contains(".partial") }.count
            print("""
                soak: 500 tasks, concurrency 64, 20% faults (429, 5xx, drops before and after submit, malformed) in \(String(format: "%.1f", seconds)) s
                  faults injected: \(stats.faultsInjected - before.faultsInjected)
                  tasks created: \(stats.submissions - before.submissions), duplicate submissions: \(stats.duplicateSubmissions), replayed by Idempotency-Key: \(stats.replayedSubmissions)
                  journal rows downloaded: \(rows.filter { $0.state == .downloaded }.count)/500, files: \(files), partial files: \(partial)
                """)
            #expect(stats.faultsInjected - before.faultsInjected > 100)
            #expect(stats.submissions - before.submissions == 500)
            #expect(stats.duplicateSubmissions == 0)
            #expect(rows.count == 500 && rows.allSatisfy { $0.state == .downloaded })
            #expect(files == 500 && partial == 0)
        }
    }
}
