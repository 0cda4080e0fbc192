import Foundation
import Testing

/// Which project, gateway and key a command uses, found and said before anything is sent; a
/// key that cannot go into a header, a key file others can read and a `.reel` that is a file
/// are caught at start-up.
@Suite struct ProjectAndKeyCLITests {
    private func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-project-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    private func write(_ text: String, to file: URL, mode: Int = 0o600) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file.path)
    }

    private func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    /// `cd parent && reel run gw/one.lua` once paid again for the take `gw/.reel` held.
    @Test func aScriptRunFromAnotherFolderUsesItsProjectsJournal() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gw = dir.appendingPathComponent("gw")
        try write("text_to_video{ prompt = 'one take', duration = 4 }\n", to: gw.appendingPathComponent("one.lua"))
        let first = try await CLI.run(["run", "one.lua", "--latency", "0.2"], in: gw)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("1 video generated"), "\(first.stdout)")
        #expect(!first.stderr.contains("using the project"), "the current folder's project needs no line: \(first.stderr)")

        let fromParent = try await CLI.run(["run", "gw/one.lua", "--latency", "0.2"], in: dir)
        #expect(fromParent.status == 0, "\(fromParent.stderr)")
        #expect(fromParent.stdout.contains("0 videos generated") && fromParent.stdout.contains("1 reused"), "\(fromParent.stdout)")
        #expect(fromParent.stderr.contains("reel: using the project in gw (the nearest folder at or above gw with .reel or reel.json): journal gw/.reel, videos in gw/out"),
                "\(fromParent.stderr)")
        #expect(!exists(dir.appendingPathComponent(".reel")) && !exists(dir.appendingPathComponent("out")))

        // A command without a script walks up from the current folder.
        let below = gw.appendingPathComponent("takes/more")
        try FileManager.default.createDirectory(at: below, withIntermediateDirectories: true)
        let runs = CLI.parseJSONArray(try await CLI.run(["history", "--json"], in: below).stdout)
        #expect(runs.count == 2, "both runs are in gw/.reel")
        // So does `reel gallery`: its page is the one a run writes, in the project's out.
        let page = try await CLI.run(["gallery"], in: below)
        #expect(page.status == 0, "\(page.stderr)")
        #expect(exists(gw.appendingPathComponent("out/gallery.html")) && !exists(below.appendingPathComponent("out")), "\(page.stdout)")

        // --state, given, wins over the project.
        let elsewhere = try await CLI.run(["run", "gw/one.lua", "--latency", "0.2", "--state", "other"], in: dir)
        #expect(elsewhere.stdout.contains("1 video generated"), "\(elsewhere.stdout)")
        #expect(exists(dir.appendingPathComponent("other/journal.sqlite")))
    }

    /// Journals written before paths were absolute hold them relative to the folder reel ran
    /// in; run from elsewhere, such a take is still found beside the journal and reused.
    @Test func anOlderJournalsRelativePathsAreFoundBesideIt() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gw = dir.appendingPathComponent("gw")
        try write("text_to_video{ prompt = 'kept relative', duration = 4 }\n", to: gw.appendingPathComponent("one.lua"))
        let first = try await CLI.run(["run", "one.lua", "--latency", "0.2", "--no-gallery"], in: gw)
        #expect(first.status == 0, "\(first.stderr)")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: gw.appendingPathComponent("out").path).first { $0.hasSuffix(".mp4") })
        _ = try await Shell.run("/usr/bin/env", ["sqlite3", gw.appendingPathComponent(".reel/journal.sqlite").path, "UPDATE task SET path = 'out/\(file)'"])
        let fromParent = try await CLI.run(["run", "gw/one.lua", "--latency", "0.2"], in: dir)
        #expect(fromParent.stdout.contains("0 videos generated") && fromParent.stdout.contains("1 reused"), "\(fromParent.stdout)")
    }

    /// Prices in the script's project count wherever reel is run from.
    @Test func pricesComeFromTheScriptsProject() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("text_to_video{ prompt = 'priced', duration = 4, model = 'veo3.1-fast-video-720p' }\n", to: dir.appendingPathComponent("gw/one.lua"))
        try write(#"{ "currency": "EUR", "prices": { "veo3.1-fast-video-720p": { "per_second": 0.5 } } }"#, to: dir.appendingPathComponent("gw/reel.json"))
        let check = try await CLI.run(["check", "gw/one.lua"], in: dir)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("2.00 EUR"), "\(check.stdout)")
    }

    /// With no `.reel` or `reel.json` anywhere above, the current folder holds both, as the
    /// README's first command (`reel run scripts/generate_then_extend.lua`) relies on.
    @Test func withoutAProjectTheCurrentFolderIsIt() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("text_to_video{ prompt = 'no project', duration = 4 }\n", to: dir.appendingPathComponent("scripts/a.lua"))
        let result = try await CLI.run(["run", "scripts/a.lua", "--latency", "0.2"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(exists(dir.appendingPathComponent(".reel/journal.sqlite")) && !exists(dir.appendingPathComponent("scripts/.reel")))
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)) ?? []
        #expect(files.contains { $0.hasSuffix(".mp4") }, "\(files)")
    }

    /// A REEL_BASE_URL inherited from a tmux server once sent a "simulator" sweep to a gateway.
    @Test func everySessionSaysWhichGatewayAndKeyItSpendsOn() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("log('nothing generated')\n", to: dir.appendingPathComponent("s.lua"))
        let key = "sk-said-\(UUID().uuidString)"
        let keyFile = dir.appendingPathComponent("key")
        try write(key + "\n", to: keyFile)
        let gateway = ["REEL_BASE_URL": "http://127.0.0.1:9", "REEL_API_KEY_FILE": keyFile.path]

        let run = try await CLI.run(["run", "s.lua"], in: dir, environment: gateway)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("reel: this run sends to the gateway at 127.0.0.1:9 (from REEL_BASE_URL) with the key from REEL_API_KEY_FILE (\(keyFile.path))"),
                "\(run.stderr)")
        let flag = try await CLI.run(["run", "s.lua", "--base-url", "http://127.0.0.1:9"], in: dir, environment: ["REEL_API_KEY": key])
        #expect(flag.stderr.contains("the gateway at 127.0.0.1:9 (from --base-url) with the key from REEL_API_KEY;"), "\(flag.stderr)")
        let check = try await CLI.run(["check", "s.lua"], in: dir, environment: gateway)
        #expect(check.stdout.contains("reel: check sends nothing; a run would send to the gateway at 127.0.0.1:9 (from REEL_BASE_URL)"), "\(check.stdout)")
        let repl = try await CLI.run(["repl"], in: dir, environment: gateway)
        #expect((repl.stdout + repl.stderr).contains("reel: this session sends to the gateway at 127.0.0.1:9"), "\(repl.stdout)\(repl.stderr)")
        for result in [run, flag, check, repl] { #expect(!(result.stdout + result.stderr).contains(key)) }

        // The simulator is named at the start too, not only at a first generation.
        let simulated = try await CLI.run(["run", "s.lua"], in: dir)
        #expect(simulated.stderr.contains("REEL_BASE_URL is not set, so this run uses the built-in simulator"), "\(simulated.stderr)")
    }

    /// `REEL_API_KEY=$'sk-…\n'` (a copied line) once reached the Authorization header as it was.
    @Test func aKeyIsTrimmedAndOneWithControlsInsideIsRefused() async throws {
        let key = "sk-trim-\(UUID().uuidString)"
        let (server, url) = try await HostileConditionsTests.simulator(["--require-key", key])
        defer { server.stop() }
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("text_to_video{ prompt = 'sent with a trimmed key', duration = 4 }\n", to: dir.appendingPathComponent("s.lua"))

        let padded = try await CLI.run(["run", "s.lua"], in: dir, environment: ["REEL_BASE_URL": url, "REEL_API_KEY": "\u{FEFF} \(key)\r\n"])
        #expect(padded.status == 0, "\(padded.stderr)")

        let secret = String(key.dropFirst(8))
        for (inside, named) in [("\n", "a line break (U+000A)"), ("\t", "a tab (U+0009)"), ("\u{7}", "a control character (U+0007)")] {
            let broken = String(key.prefix(8)) + inside + secret
            let refused = try await CLI.run(["run", "s.lua"], in: dir, environment: ["REEL_BASE_URL": url, "REEL_API_KEY": broken])
            #expect(refused.status == 2, "\(refused.stderr)")
            #expect(refused.stderr.contains("reel: REEL_API_KEY holds \(named) inside the key"), "\(refused.stderr)")
            #expect(!(refused.stdout + refused.stderr).contains(secret))
        }
        #expect(HostileConditionsTests.stats(url)["submissions"] as? Int == 1, "only the trimmed key's run reached the gateway")
    }

    /// ssh warns about a private key others can read; reel does the same for its key file.
    @Test func aKeyFileOthersCanReadIsWarnedAboutOnce() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("log('nothing generated')\n", to: dir.appendingPathComponent("s.lua"))
        let keyFile = dir.appendingPathComponent("key")
        try write("sk-readable\n", to: keyFile, mode: 0o644)
        let environment = ["REEL_BASE_URL": "http://127.0.0.1:9", "REEL_API_KEY_FILE": keyFile.path]
        let readable = try await CLI.run(["run", "s.lua"], in: dir, environment: environment)
        #expect(readable.status == 0, "\(readable.stderr)")
        #expect(readable.stderr.contains("reel: warning: the key file \(keyFile.path) can be read by other users (mode 644)"), "\(readable.stderr)")
        #expect(readable.stderr.components(separatedBy: "chmod 600 \(keyFile.path)").count - 1 == 1, "\(readable.stderr)")

        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path)
        let mine = try await CLI.run(["run", "s.lua"], in: dir, environment: environment)
        #expect(mine.status == 0 && !mine.stderr.contains("chmod"), "\(mine.stderr)")
    }

    /// A `.reel` file once surfaced as a raw NSCocoaErrorDomain error at the first generation.
    @Test func aFileWhereTheJournalFolderBelongsIsNamedWithTheFix() async throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write("text_to_video{ prompt = 'x', duration = 4 }\n", to: dir.appendingPathComponent("s.lua"))
        try write("", to: dir.appendingPathComponent(".reel"))
        let run = try await CLI.run(["run", "s.lua", "--latency", "0.2"], in: dir)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("reel: '.reel' is a file, not the journal's folder: move it aside (mv .reel .reel.old) or choose another folder with --state"), "\(run.stderr)")
        #expect(!run.stderr.contains("NSCocoaErrorDomain"))
        let history = try await CLI.run(["history"], in: dir)
        #expect(history.status == 2 && history.stderr.contains("'.reel' is a file"), "\(history.stdout)\(history.stderr)")
    }
}
