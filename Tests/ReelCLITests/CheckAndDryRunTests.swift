import Foundation
import Testing

/// `reel check`, `reel run --dry-run` and `reel models`, run as processes.
@Suite struct CheckAndDryRunTests {
    static let examples = ["scripts/generate_then_extend.lua", "scripts/prompt_sweep.lua",
                           "scripts/first_last_frame.lua", "scripts/reference_images.lua", "scripts/csv_sweep.lua",
                           "scripts/storyboard.lua"]

    @Test(arguments: examples)
    func everyExamplePassesCheckAndPrintsThePlan(script: String) async throws {
        let result = try await CLI.run(["check", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Plan: "))
        #expect(result.stdout.contains("Seconds of video by model:"))
        #expect(result.stdout.contains("check: ok"))
    }

    @Test(arguments: examples)
    func everyExampleDryRuns(script: String) async throws {
        let result = try await CLI.run(["run", "--dry-run", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"model\": \"veo3.1-"))
    }

    /// A misspelt flag after the script is named as a flag, not taken for a script argument;
    /// `check` takes a `run` line as it is; `--version` answers.
    @Test func flagsAfterTheScriptAreFlags() async throws {
        let typo = try await CLI.run(["run", "--dry-run", "scripts/prompt_sweep.lua", "--concurency", "6"])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("unknown option '--concurency' (did you mean '--concurrency'?)"), "\(typo.stderr)")
        let check = try await CLI.run(["check", "scripts/prompt_sweep.lua", "--concurrency", "3", "--fresh"])
        #expect(check.status == 0, "\(check.stderr)")
        let version = try await CLI.run(["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty)
    }

    @Test func examplesAreInTheScriptsFolder() async throws {
        let found = try FileManager.default.contentsOfDirectory(atPath: CLI.packageRoot.appendingPathComponent("scripts").path)
            .filter { $0.hasSuffix(".lua") }.map { "scripts/" + $0 }
        #expect(Set(found) == Set(Self.examples), "add new examples to CheckAndDryRunTests.examples")
    }

    /// Every function's example in the reference page (docs/reference.md, generated from
    /// LuaAPI.swift and held to it by `theCommittedCopiesAreCurrent`), by function heading.
    static let referenceExamples: [(function: String, example: String)] = {
        let page = (try? String(contentsOf: CLI.packageRoot.appendingPathComponent("docs/reference.md"), encoding: .utf8)) ?? ""
        return page.components(separatedBy: "\n## ").dropFirst().filter { $0.prefix(while: { $0 != "\n" }).contains("(") }.map { section in
            let heading = String(section.prefix(while: { $0 != "\n" }))
            let blocks = section.components(separatedBy: "```lua\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
            return (heading, blocks.count == 1 ? blocks[0] : "-- \(blocks.count) examples under this heading, not one")
        }
    }()

    @Test func theReferenceHasAnExampleForEveryFunction() {
        #expect(Self.referenceExamples.count >= 19, "docs/reference.md lost its function sections")
    }

    /// An example a reader copies must compile, use no variable it does not make, and pass
    /// `reel check` as it stands; the local
    /// images it names stand for the reader's own files.
    @Test(arguments: referenceExamples.map(\.function))
    func everyReferenceExampleCompilesAndPassesCheck(function: String) async throws {
        let example = try #require(Self.referenceExamples.first { $0.function == function }?.example)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-example-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try example.write(to: dir.appendingPathComponent("example.lua"), atomically: true, encoding: .utf8)
        for match in example.matches(of: /"([^"]+\.png)"/) where !match.1.hasPrefix("http") {
            let image = dir.appendingPathComponent(String(match.1))
            try FileManager.default.createDirectory(at: image.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data([0x89, 0x50, 0x4E, 0x47]).write(to: image)
        }
        // luacheck parses it as Lua does and, with reel's generated globals, names any
        // variable the example uses without making it.
        guard let luacheck = ["/usr/bin/luacheck", "/usr/local/bin/luacheck"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("luacheck is not installed; run scripts/setup.sh")
            return
        }
        let lint = Process()
        lint.executableURL = URL(fileURLWithPath: luacheck)
        lint.arguments = ["--no-color", "--codes", "--no-unused", "--no-max-line-length",
                          "--config", CLI.packageRoot.appendingPathComponent("docs/.luacheckrc").path, "example.lua"]
        lint.currentDirectoryURL = dir
        let lintOutput = Pipe()
        lint.standardOutput = lintOutput
        try lint.run()
        let lintText = Reader(lintOutput.fileHandleForReading)
        await lint.exit()
        let lintReport = await lintText.text()
        #expect(lint.terminationStatus == 0, "\(function): \(lintReport)")
        let check = try await CLI.run(["check", "example.lua"], in: dir)
        #expect(check.status == 0 && check.stdout.contains("check: ok"), "\(function):\n\(example)\n\(check.stderr)")
    }

    private func brokenScript(_ text: String) throws -> (URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try text.write(to: dir.appendingPathComponent("broken.lua"), atomically: true, encoding: .utf8)
        return (dir, "broken.lua")
    }

    @Test(arguments: [
        ("local clip = \n", "error: broken.lua:2: unexpected symbol near <eof>"),
        ("\ntext_to_video{ prompt = 'x', durration = 8 }", "error: broken.lua:2: text_to_video: unknown option 'durration' (did you mean 'duration'?)"),
        ("text_to_video{ prompt = 'x', model = 'veo3.1-video-8k' }", "error: broken.lua:1: text_to_video: unknown model 'veo3.1-video-8k' (did you mean 'veo3.1-video-4k'? see `reel models`)"),
        ("reference_to_video{ prompt = 'x', model = 'veo3.1-fast-video-1080p', images = { 'https://a/1.png', 'https://a/2.png' } }",
         "error: broken.lua:1: reference_to_video: veo3.1-fast-video-1080p cannot do multi-image-reference ('images'); use veo3.1-video-1080p"),
        ("local a = 1\n\ntext_to_video{ prompt = 'x', duration = 5 }", "error: broken.lua:3: text_to_video: 'duration' must be 4, 6 or 8 (got 5)"),
        ("local v = text_to_vido{ prompt = 'x' }", "error: broken.lua:1: attempt to call a nil value (global 'text_to_vido') (did you mean 'text_to_video'?)"),
        ("prnt('x')", "error: broken.lua:1: attempt to call a nil value (global 'prnt') (did you mean 'print'?)"),
        ("foo()", "error: broken.lua:1: attempt to call a nil value (global 'foo')"),
    ])
    func brokenScriptsExitOneWithOneClearMessage(script: String, message: String) async throws {
        let (dir, name) = try brokenScript(script)
        defer { try? FileManager.default.removeItem(at: dir) }
        for command in [["check", name], ["run", "--dry-run", name]] {
            let result = try await CLI.run(command, in: dir)
            #expect(result.status == 1)
            #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == message)
            #expect(!result.stdout.contains("Plan:"))
        }
    }

    /// One check lists every invalid call of a script, each at its line, and goes on past
    /// them (an extend of a refused call is checked too).
    @Test func checkReportsEveryInvalidCall() async throws {
        let (dir, name) = try brokenScript("""
            local a = text_to_video{ prompt = 'x', duration = 5 }
            local b = extend(a, { prompt = 'y', seed = -1 })
            text_to_video{ prompt = 'fine' }
            text_to_video{ prompt = '', aspect_ratio = '4:3' }
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        for command in [["check", name], ["run", "--dry-run", name]] {
            let result = try await CLI.run(command, in: dir)
            #expect(result.status == 1)
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
            #expect(lines.count == 3, "\(result.stderr)")
            #expect(result.stderr.contains("broken.lua:1: text_to_video: 'duration' must be 4, 6 or 8 (got 5)"))
            #expect(result.stderr.contains("broken.lua:2: extend: 'seed' must be from 0 to"))
            #expect(result.stderr.contains("broken.lua:4: text_to_video: 'aspect_ratio' must be 16:9 or 9:16 (got 4:3)\n  text_to_video: 'prompt' must not be empty"))
        }
    }

    @Test func usageErrorsExitTwo() async throws {
        #expect(try await CLI.run(["run", "--bogus", "x.lua"]).status == 2)
        #expect(try await CLI.run(["run", "--dry-run", "missing.lua"]).status == 2)
        #expect(try await CLI.run(["run", "--dry-run", "scripts/prompt_sweep.lua", "not-a-pair"]).status == 2)
        let badModel = try await CLI.run(["check", "scripts/prompt_sweep.lua", "--model", "veo3"])
        #expect(badModel.status == 2)
        #expect(badModel.stderr.contains("--model: unknown model 'veo3'"))
        #expect(try await CLI.run(["check", "scripts/prompt_sweep.lua"], environment: ["REEL_MODEL": "nope"]).status == 2)
    }

    @Test func verboseAddsATraceback() async throws {
        let (dir, name) = try brokenScript("local function f()\n  error('deep')\nend\nf()\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["check", "--verbose", name], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: broken.lua:2: deep"))
        #expect(result.stderr.contains("stack traceback"))
    }

    /// A map that asks for more at once than the run's --concurrency is told, once, at its line.
    @Test func aMapAboveTheRunsConcurrencyWarnsOnce() async throws {
        let dir = try HostileConditionsTests.scratch("""
            map({ 1, 2, 3 }, function(i) return text_to_video{ prompt = "p" .. i, duration = 4 } end, { concurrency = 6 })
            map({ 4, 5 }, function(i) return text_to_video{ prompt = "p" .. i, duration = 4 } end, { concurrency = 8 })
            map({ 6 }, function(i) return text_to_video{ prompt = "p" .. i, duration = 4 } end, { concurrency = 2 })
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "--dry-run", "s.lua", "--concurrency", "2"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "warning: ").count == 2, "\(result.stderr)")
        #expect(result.stderr.contains("warning: s.lua:1: map: concurrency = 6 is above this run's --concurrency 2"), "\(result.stderr)")
        let within = try await CLI.run(["run", "--dry-run", "s.lua", "--concurrency", "8"], in: dir)
        #expect(!within.stderr.contains("warning"), "\(within.stderr)")
    }

    @Test func scriptArgumentsReachTheScript() async throws {
        let result = try await CLI.run(["run", "--dry-run", "scripts/prompt_sweep.lua", "subject=a windmill", "concurrency=2"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("a windmill at dawn, wide shot"))
    }

    @Test func modelsPrintsTheCapabilityTable() async throws {
        let result = try await CLI.run(["models"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("MODEL") == true)
        #expect(lines.contains { $0.hasPrefix("veo3.1-fast-video-720p *") })
        let fastRow = lines.first { $0.hasPrefix("veo3.1-fast-video-4k") }!
        #expect(fastRow.split(separator: " ").filter { $0 == "-" }.count == 1, "fast models cannot do reference")
        let json = try await CLI.run(["models", "--json"])
        #expect(json.stdout.contains("\"name\": \"veo3.1-video-1080p\""))
    }

    @Test func eachRunsTheScriptOncePerCSVRow() async throws {
        let result = try await CLI.run(["run", "--dry-run", "--each", "scripts/rows.csv", "scripts/csv_sweep.lua"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Plan: 3 requests"))
        #expect(result.stdout.contains("an otter in a river, full of reeds at noon, wildlife documentary"))
        #expect(result.stderr.contains("[log] row 2: dry-run-"))
    }

    @Test func eachReportsEveryFailingRowByNumber() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-each-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "d\n4\n5\n8\n7\n".write(to: dir.appendingPathComponent("d.csv"), atomically: true, encoding: .utf8)
        try "text_to_video{ prompt = 'x', duration = tonumber(args.d) }\n".write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        let result = try await CLI.run(["check", "--each", "d.csv", "s.lua"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("row 2 of d.csv:\nerror: s.lua:1: text_to_video: 'duration' must be 4, 6 or 8 (got 5)"))
        #expect(result.stderr.contains("row 4 of d.csv:"))
        #expect(result.stderr.contains("2 rows failed"))
        try "a,b\n1\n".write(to: dir.appendingPathComponent("bad.csv"), atomically: true, encoding: .utf8)
        let bad = try await CLI.run(["check", "--each", "bad.csv", "s.lua"], in: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.csv:2: 1 field, but the header has 2"))
    }

    @Test func helpAnswersTheQuestion() async throws {
        let result = try await CLI.run(["run", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("--dry-run"))
        #expect(result.stdout.contains("key=value"))
    }

    /// Help text is wrapped by the terminal's width, not by hand: no paragraph line breaks
    /// early and then goes on (the raggedness of text wrapped twice).
    @Test(arguments: ["", "run", "check", "models", "simulator", "history", "spend", "gallery", "task", "repl", "docs"])
    func helpParagraphsWrapEvenly(command: String) async throws {
        let result = try await CLI.run((command.isEmpty ? [] : [command]) + ["--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0)
        let text = result.stdout.components(separatedBy: "USAGE:")[0]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (line, next) in zip(lines, lines.dropFirst()) {
            let prose = { (l: String) in !l.isEmpty && !l.hasPrefix(" ") && !l.hasPrefix("-") }
            // A short prose line followed by more prose, not ending a sentence or a heading.
            let ragged = prose(line) && prose(next) && line.count < 56 && !line.hasSuffix(".") && !line.hasSuffix(":")
            #expect(!ragged, "reel \(command) --help breaks early at: \(line)")
        }
    }
}
