import Foundation
import Testing
import VideoAPI
@testable import Workflow

/// The Lua functions as a script author meets them, under the dry run.
@Suite struct LuaFunctionsTests {
    @Test func generateThenExtendThenExtendChainsThroughTheDryRun() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let dry = DryRunGenerator()
        try await h.run("""
            local clip = text_to_video{ prompt = "a paper boat", model = "veo3.1-video-720p", seed = 7 }
            local longer = extend(clip, { prompt = "it reaches a drain" })
            local longest = extend(longer, "it falls")
            assert(longest.model == "veo3.1-video-720p", "extend keeps the source model")
            """, generator: dry)
        let requests = dry.requests
        #expect(requests.map(\.mode) == [.text, .extend, .extend])
        #expect(requests[1].video == .url("https://dry-run.invalid/videos/dry-run-1.mp4"))
        #expect(requests[2].video == .url("https://dry-run.invalid/videos/dry-run-2.mp4"))
        #expect(requests[2].prompt == "it falls")
        // Nothing but the model carries over from the source video.
        #expect(requests[1].extraBody.seed == nil)
    }

    @Test func videoHasTheDocumentedFields() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("""
            local v = text_to_video{ prompt = "p", duration = 6, aspect_ratio = "9:16" }
            log(v.id, v.url, v.model, v.prompt, v.duration, v.status, v.request.aspect_ratio, v.request.size)
            log(tostring(v))
            """)
        #expect(reporter.logs == [
            "[log] dry-run-1\thttps://dry-run.invalid/videos/dry-run-1.mp4\tveo3.1-fast-video-720p\tp\t6\tdry_run\t9:16\t720p",
            "[log] Video(id=dry-run-1, status=dry_run, url=https://dry-run.invalid/videos/dry-run-1.mp4)",
        ])
    }

    /// A warning about an option set by defaults{} is said once, not at every call.
    @Test func warningsFromDefaultsAreSaidOnce() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("""
            defaults{ aspect_ratio = "9:16" }
            image_to_video{ prompt = "a", image = "https://x/a.png" }
            image_to_video{ prompt = "b", image = "https://x/b.png" }
            image_to_video{ prompt = "c", image = "https://x/c.png", aspect_ratio = "16:9" }
            """)
        let ignored = reporter.warnings.filter { $0.contains("'aspect_ratio' is ignored") }
        #expect(ignored.count == 2, "\(reporter.warnings)")
        #expect(ignored.contains { $0.hasSuffix("(set by defaults{})") })
        #expect(ignored.contains { $0.hasPrefix("script.lua:4:") })
    }

    /// One failed take does not hide the others: with errors = "collect", map returns every
    /// item, the failures as error tables in their places.
    @Test func mapCanCollectFailures() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("""
            local takes = map({ 4, 5, 6 }, function(d) return text_to_video{ prompt = "x", duration = d } end, { errors = "collect" })
            for i, t in ipairs(takes) do
              log(i, t.failed and (t.code .. " " .. t.index) or t.id)
            end
            """)
        #expect(reporter.logs == ["[log] 1\tdry-run-1", "[log] 2\tinvalid_request 2", "[log] 3\tdry-run-2"])
    }

    /// A dry run numbers takes in the script's order, as a live run claims them: the second
    /// call arriving first (a parallel map under load) waits for the first.
    @Test func aDryRunNumbersTakesInScriptOrderWhicheverArrivesFirst() async throws {
        let dry = DryRunGenerator(orderPatience: .seconds(600))
        let parser = RequestParser(caller: "text_to_video", expectedMode: .text, source: .wire)
        let first = try parser.parse([("prompt", "first")]).request, second = try parser.parse([("prompt", "second")]).request
        let secondTake = Task { try await dry.generate(second, options: GenerationOptions(sequence: 2)) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(dry.requests.isEmpty, "the second call waits for the first")
        let firstTake = try await dry.generate(first, options: GenerationOptions(sequence: 1))
        #expect(firstTake.id == "dry-run-1")
        #expect(try await secondTake.value.id == "dry-run-2")
        #expect(dry.requests.map(\.prompt) == ["first", "second"])
    }

    /// A Video is the record of a generation: its fields can be read and listed, not changed.
    @Test func aVideoIsReadOnly() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("""
            local v = text_to_video "p"
            local ok, err = pcall(function() v.id = "forged" end)
            log(ok, tostring(err):find("read-only", 1, true) ~= nil, v.id)
            local ok2 = pcall(function() v.request.model = "x" end)
            log(ok2, v.request.model)
            local names = {}
            for k in pairs(v) do names[#names + 1] = k end
            table.sort(names)
            log(table.concat(names, ","))
            log(type(v), v.nosuch == nil, rawequal(v, v))
            """)
        #expect(reporter.logs == [
            "[log] false\ttrue\tdry-run-1",
            "[log] true\tveo3.1-fast-video-720p",  // request is a fresh copy: editing it changes nothing
            "[log] id,label,mode,model,prompt,request,status,url",
            "[log] userdata\ttrue\ttrue",
        ])
    }

    @Test func everyFunctionIsAlsoInRequireReel() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        try await h.run("""
            local reel = require "reel"
            for _, name in ipairs{ "text_to_video", "image_to_video", "frames_to_video", "reference_to_video",
                                   "extend", "generate", "defaults", "log", "sleep", "parallel", "map", "spawn", "args" } do
              assert(reel[name] ~= nil and reel[name] == _G[name], name)
            end
            """)
    }

    @Test func modelPrecedence() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let dry = DryRunGenerator()
        try await h.run("""
            text_to_video{ prompt = "base" }
            defaults{ model = "veo3.1-video-1080p", duration = 8 }
            text_to_video{ prompt = "from defaults" }
            text_to_video{ prompt = "from the call", model = "veo3.1-video-4k" }
            local hd = text_to_video{ prompt = "source", model = "veo3.1-video-720p" }
            extend(hd, { prompt = "keeps the source model over defaults" })
            """, generator: dry, baseModel: "veo3.1-fast-video-1080p")
        #expect(dry.requests.map(\.model) == ["veo3.1-fast-video-1080p", "veo3.1-video-1080p", "veo3.1-video-4k",
                                              "veo3.1-video-720p", "veo3.1-video-720p"])
        #expect(dry.requests[1].duration == 8)
    }

    @Test func errorsAreTablesWithCodeAndCallerLine() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("""
            local ok, err = pcall(text_to_video, { prompt = "x", duration = 5 })
            log(ok, err.code, err.message)
            local ok2, err2 = pcall(function()
              text_to_video{ prompt = "x", duration = 5 }
            end)
            log(tostring(err2))
            """)
        #expect(reporter.logs == [
            "[log] false\tinvalid_request\ttext_to_video: 'duration' must be 4, 6 or 8 (got 5)",
            "[log] script.lua:4: text_to_video: 'duration' must be 4, 6 or 8 (got 5)",
        ])
    }

    @Test func uncaughtErrorNamesTheScriptLine() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let failure = await #expect(throws: WorkflowFailure.self) {
            try await h.run("\n\nimage_to_video{ prompt = 'x' }\n", name: "broken.lua")
        }
        #expect(failure?.message == "broken.lua:3: image_to_video: 'image' is required")
    }

    @Test func typeErrorsNameFunctionOptionAndExpectation() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let cases: [(String, String)] = [
            ("text_to_video{ prompt = 'x', seed = 1.5 }", "text_to_video: 'seed' must be a whole number (got 1.5)"),
            ("text_to_video{ prompt = 'x', duration = 'eight' }", "text_to_video: 'duration' must be a number (got string \"eight\")"),
            ("text_to_video{ prompt = 'x', generate_audio = 'yes' }", "text_to_video: 'generate_audio' must be true or false (got string)"),
            ("text_to_video(42)", "text_to_video: argument 1 must be an options table (got number)"),
            ("text_to_video{ 'a boat' }", "text_to_video: options must be named (got a list item at 1); write text_to_video{ prompt = \"…\" }"),
            ("text_to_video{ prompt = 'x', seed = print }", "text_to_video: 'seed' cannot be a function"),
            ("extend(5, {})", "extend: the first argument must be a Video or a URL (got number)"),
            ("extend(text_to_video 'a', { video = 'https://x/v.mp4' })", "extend: give the video once, as the first argument"),
            ("extend('https://x/v.mp4', { video = 'https://x/w.mp4' })", "extend: give the video once, as the first argument"),
            ("defaults{ modle = 'x' }", "defaults: unknown option 'modle' (did you mean 'model'?)"),
        ]
        for (line, expected) in cases {
            let failure = await #expect(throws: WorkflowFailure.self) { try await h.run(line) }
            #expect(failure?.message == "script.lua:1: " + expected)
        }
    }

    @Test func argsHoldsCommandLinePairs() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("log(args.subject, args.n, args.missing)", arguments: ["subject": "a fox", "n": "3"])
        #expect(reporter.logs == ["[log] a fox\t3\tnil"])
    }

    @Test func warningsAreShownOncePerLine() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("""
            for i = 1, 5 do
              frames_to_video{ prompt = "p", image = "https://a/1.png", last_image = "https://a/2.png", duration = 6 }
            end
            """)
        #expect(reporter.warnings == ["script.lua:2: frames_to_video: upstream Veo makes first+last frame videos 8 s only; duration 6 may be refused"])
    }

    @Test func saveDefaultsUnderTheOutputFolder() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let dry = DryRunGenerator()
        let reporter = try await h.run("local v = text_to_video 'a boat'\nlog(v:save())\nlog(v:save('mine.mp4'))", generator: dry)
        #expect(reporter.logs == ["[log] \(h.directory.path)/out/dry-run-1.mp4", "[log] \(h.directory.path)/mine.mp4"])
    }

    @Test func mapOverGenerationsUnderTheDryRun() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let dry = DryRunGenerator()
        try await h.run("""
            local takes = map({ "dawn", "noon", "dusk" }, function(t)
              return text_to_video{ prompt = "a lighthouse at " .. t }
            end, { concurrency = 2 })
            assert(#takes == 3 and takes[3].prompt == "a lighthouse at dusk")
            """, generator: dry)
        #expect(Set(dry.requests.map(\.prompt)) == ["a lighthouse at dawn", "a lighthouse at noon", "a lighthouse at dusk"])
    }

    @Test func localImagesResolveBesideTheScript() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        try Data([1, 2, 3]).write(to: h.directory.appendingPathComponent("frame.png"))
        let dry = DryRunGenerator()
        try await h.run("image_to_video{ prompt = 'p', image = 'frame.png' }", generator: dry)
        guard case .localFile(let path, let mime, let bytes) = dry.requests.first?.image else {
            Issue.record("expected a local file"); return
        }
        #expect(path.hasSuffix("frame.png") && mime == "image/png" && bytes == 3)
    }
}
