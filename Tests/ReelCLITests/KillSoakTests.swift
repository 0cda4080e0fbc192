import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Simulator
import Testing

/// kill -9 at random points of a 50-task run, then a re-run: everything finishes, nothing is
/// bought twice, nothing half-written remains, every file matches the journal. Prints figures.
@Suite struct KillSoakTests {
    @Test func killNineThenRerunLosesAndRebuysNothing() async throws {
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "0.8", "--sample-videos"])
        defer { server.stop() }
        let url = try await server.waitForURL()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            local prompts = {}
            for i = 1, 50 do prompts[i] = "kill soak take " .. i end
            map(prompts, function(p) return text_to_video{ prompt = p, duration = 4 } end)
            """.write(to: dir.appendingPathComponent("soak.lua"), atomically: true, encoding: .utf8)
        let environment = ["REEL_BASE_URL": url, "REEL_API_KEY": "sk-soak"]

        var generator = SeededRandom(seed: 20261125)
        var killedAt: [Double] = []
        for attempt in 0..<4 {
            let run = try BackgroundReel(["run", "soak.lua", "--concurrency", "8"], in: dir, environment: environment)
            if attempt == 0 {
                // Killed before any reply, a run cannot know whether the gateway replays
                // Idempotency-Keys: its claimed rows rightly stay unknown. Kill after the first.
                let patience = Date().addingTimeInterval(60)
                while (try await Self.json(from: url + "/__simulator/stats")["submissions"] as? Int ?? 0) < 1 {
                    guard Date() < patience else { throw CLIError(message: "no submission in 60 s: \(run.standardError)") }
                    try await Task.sleep(nanoseconds: 10_000_000)
                }
            }
            let delay = 0.4 + Double(generator.next() % 2100) / 1000
            try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
            run.kill9()
            _ = await run.waitForExit(timeout: 10)
            killedAt.append(delay)
        }
        let final = try await CLI.run(["run", "soak.lua", "--concurrency", "8"], in: dir, environment: environment)
        #expect(final.status == 0, "\(final.stderr.suffix(2000))")

        let stats = try await Self.json(from: url + "/__simulator/stats")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)
        let partial = files.filter { $0.contains(".partial") }
        let history = CLI.parseJSONArray(try await CLI.run(["history", "--json", "--limit", "100"], in: dir).stdout)
        var latest: [String: [String: Any]] = [:]  // newest row per prompt
        for run in history.reversed() {
            for case let task as [String: Any] in (run["tasks"] as? [Any]) ?? [] {
                if let prompt = task["prompt"] as? String { latest[prompt] = task }
            }
        }
        var matches = 0
        for task in latest.values {
            guard let path = task["path"] as? String, let sha = task["sha256"] as? String else { continue }
            let absolute = path.hasPrefix("/") ? path : dir.appendingPathComponent(path).path
            if try Self.sha256(of: absolute) == sha { matches += 1 }
        }
        let created = stats["submissions"] as? Int ?? -1
        let duplicates = stats["duplicate_submissions"] as? Int ?? -1
        print("""
            kill -9 soak: 50 tasks, killed at \(killedAt.map { String(format: "%.2f s", $0) }.joined(separator: ", ")), then re-run
              re-run exit: \(final.status); tasks created on the server: \(created); duplicate submissions: \(duplicates); \
            replayed by Idempotency-Key: \(stats["replayed_submissions"] as? Int ?? -1)
              files: \(files.filter { $0.hasSuffix(".mp4") }.count), partial files: \(partial.count), SHA-256 matching the journal: \(matches)/\(latest.count)
            """)
        #expect(created == 50)
        #expect(duplicates == 0)
        #expect(partial.isEmpty)
        #expect(latest.count == 50 && matches == 50)
    }

    static func json(from url: String) async throws -> [String: Any] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    static func sha256(of path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}

extension CLI {
    static func parseJSONArray(_ text: String) -> [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []
    }
}
