import Foundation
import Testing

/// The gallery a run writes, read as a file: posters made once per video and journaled, the
/// layout of a sweep whose parameters change together, and the copy call that makes a take again.
@Suite struct GalleryCLITests {
    /// Each poster file's inode and modification time: the same after a re-run means no
    /// ffmpeg wrote it again.
    static func posterStamps(_ dir: URL) throws -> [String: String] {
        let folder = dir.appendingPathComponent(".reel/posters")
        var stamps: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".jpg") {
            var info = stat()
            guard stat(folder.appendingPathComponent(name).path, &info) == 0 else { continue }
            stamps[name] = "\(info.st_ino) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
        return stamps
    }

    static func journal(_ dir: URL, _ query: String) async throws -> String {
        try await Shell.run("/usr/bin/env", ["sqlite3", dir.appendingPathComponent(".reel/journal.sqlite").path, query])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func postersAreMadeOncePerVideoJournaledAndReusedByTheNextRun() async throws {
        let dir = try HostileConditionsTests.scratch("""
            for _, p in ipairs({ "a red kite", "a lighthouse" }) do
              for _, s in ipairs({ 1, 2 }) do text_to_video{ prompt = p, seed = s, duration = 4 } end
            end
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try await CLI.run(["run", "s.lua", "--latency", "0"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let made = try Self.posterStamps(dir)
        #expect(made.count == 4, "a poster per take: \(made.keys.sorted())")
        // Named by the video's SHA-256 (journaled with its download) and journaled as a media output.
        let shas = try await Self.journal(dir, "SELECT sha256 FROM task ORDER BY id").split(separator: "\n").map { "\($0).jpg" }
        #expect(Set(shas) == Set(made.keys), "\(shas) vs \(made.keys.sorted())")
        #expect(try await Self.journal(dir, "SELECT count(*) FROM media WHERE operation = 'poster'") == "4")
        let page = try String(contentsOf: dir.appendingPathComponent("out/gallery.html"), encoding: .utf8)
        for name in made.keys { #expect(page.contains(#"poster="../.reel/posters/\#(name)""#), "the page shows \(name) by its path") }

        let again = try await CLI.run(["run", "s.lua", "--latency", "0"], in: dir)
        #expect(again.status == 0 && again.stdout.contains("4 reused"), "\(again.stdout)\(again.stderr)")
        #expect(try Self.posterStamps(dir) == made, "the re-run made no poster again")
        #expect(try await Self.journal(dir, "SELECT count(*) FROM media WHERE operation = 'poster'") == "4")
        let second = try String(contentsOf: dir.appendingPathComponent("out/gallery.html"), encoding: .utf8)
        #expect(made.keys.allSatisfy { second.contains(#"poster="../.reel/posters/\#($0)""#) }, "the re-run's page shows the same posters")

        // A poster file gone: the next page makes that one alone.
        let lost = made.keys.sorted()[0]
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".reel/posters/\(lost)"))
        let gallery = try await CLI.run(["gallery"], in: dir)
        #expect(gallery.status == 0, "\(gallery.stderr)")
        let after = try Self.posterStamps(dir)
        #expect(after.count == 4 && after.filter { $0.key != lost } == made.filter { $0.key != lost }, "only the lost poster is made again")
        print("gallery posters: 4 made and journaled; re-run made none (same inodes and times); a deleted one made again alone")
    }

    @Test func promptsAndSeedsThatChangeTogetherAreAListNotASquareOfEmptyCells() async throws {
        let dir = try HostileConditionsTests.scratch("""
            for i = 1, 5 do text_to_video{ prompt = "take " .. i, seed = i, duration = 4 } end
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua", "--latency", "0"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let page = try String(contentsOf: dir.appendingPathComponent("out/gallery.html"), encoding: .utf8)
        #expect(page.components(separatedBy: #"class="card take"#).count - 1 == 5)
        #expect(!page.contains(#"<div class="empty">"#), "no empty cells: a 5 × 5 grid would have 20")
        #expect(page.contains(#"<section class="list">"#) && page.contains("varies: prompt, seed"))
    }

    @Test func theCopyCallMakesTheSameTakeAgainWithItsNameAndEveryByteOfItsPrompt() async throws {
        // A control, a control before a digit (\1 then 1 is not \11), an escape and a bidi
        // override. (A NUL is refused before sending, so no journaled prompt holds one.)
        let dir = try HostileConditionsTests.scratch(#"""
            text_to_video{ prompt = "a fox\1 at dawn\0011 \27[31m red \u{202E}kcab", seed = 7, duration = 4, name = "fox-{seed}-{id}",
                           extra_body = { style = "ink", ["camera move"] = "dolly", ["end"] = 1 } }
            """#)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua", "--latency", "0"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path).filter { $0.hasSuffix(".mp4") }
        #expect(files.count == 1 && files[0].hasPrefix("fox-7-"), "\(files)")
        let page = try String(contentsOf: dir.appendingPathComponent("out/gallery.html"), encoding: .utf8)
        let code = try #require(page.firstMatch(of: /<code>([^<]*)<\/code>/)).1
        let call = String(code).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        #expect(call.contains(#"prompt = "a fox\1 at dawn\0011 \27[31m red \u{202E}kcab""#), "every character, escaped: \(call)")
        #expect(call.contains(#"name = "fox-7-{id}""#), "its name: \(call)")
        #expect(call.contains("extra_body = { ") && call.contains(#"style = "ink""#) && call.contains(#"["camera move"] = "dolly""#)
                && call.contains(#"["end"] = 1"#), "fields of no option back in extra_body, keys quoted where needed: \(call)")
        #expect(!call.unicodeScalars.contains { $0.value < 0x20 || $0.properties.isBidiControl }, "nothing unprintable on the page: \(call)")

        // The call, copied into a script of its own, is the same request: the take is reused.
        try call.write(to: dir.appendingPathComponent("again.lua"), atomically: true, encoding: .utf8)
        let again = try await CLI.run(["run", "again.lua", "--latency", "0"], in: dir)
        #expect(again.status == 0 && again.stdout.contains("0 videos generated") && again.stdout.contains("1 reused"), "\(again.stdout)\(again.stderr)")
        print("gallery copy call: \(call)")
    }
}
