import Foundation
import Simulator
@testable import Support
import Testing
import VideoAPI
@testable import Workflow

/// Scripts against the simulator over loopback: what a user's workflow does for real.
@Suite struct LiveRunTests {
    @Test func generateThenExtendThenExtend() async throws {
        try await LiveHarness.with { live in
            let reporter = try await live.run("""
                local clip = text_to_video{ prompt = "a paper boat", model = "veo3.1-video-720p" }
                local longer = extend(clip, { prompt = "it reaches a drain" })
                local longest = extend(longer, { prompt = "it falls" })
                log(clip.status, longer.model, longest.url ~= nil, longest.path ~= nil)
                log(longer.request.video == clip.url, longest.request.video == longer.url)
                """)
            #expect(reporter.logs == ["[log] succeeded\tveo3.1-video-720p\ttrue\ttrue", "[log] true\ttrue"])
            let stats = await live.simulator.state.stats
            #expect(stats.submissions == 3)
            #expect(live.outputFiles.count == 3)
            #expect(live.outputFiles.allSatisfy { $0.hasSuffix(".mp4") })
        }
    }

    @Test func mapOverTwentyPromptsNeverExceedsFiveInFlight() async throws {
        try await LiveHarness.with({ $0.generationSeconds = 0.2 }, concurrency: 5) { live in
            try await live.run("""
                local prompts = {}
                for i = 1, 20 do prompts[i] = "prompt number " .. i end
                local videos = map(prompts, function(p) return text_to_video{ prompt = p } end, { concurrency = 20 })
                assert(#videos == 20)
                """)
            let stats = await live.simulator.state.stats
            #expect(stats.submissions == 20)
            #expect(stats.peakOpenTasks == 5, "server saw \(stats.peakOpenTasks) tasks open at once")
            #expect(live.outputFiles.count == 20)
        }
    }

    @Test func everyModeReachesTheServerValid() async throws {
        try await LiveHarness.with { live in
            try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: live.scripts.directory.appendingPathComponent("frame.png"))
            try await live.run("""
                local t = text_to_video{ prompt = "text" }
                image_to_video{ prompt = "image", image = "frame.png" }
                frames_to_video{ prompt = "frames", image = "https://example.com/a.png", last_image = "frame.png" }
                reference_to_video{ prompt = "reference", model = "veo3.1-video-720p", images = { "frame.png", "https://example.com/b.png" } }
                extend(t, { prompt = "extend" })
                generate{ prompt = "generate infers text" }
                """)
            let state = live.simulator.state
            let bodies = await state.receivedBodies
            let stats = await state.stats
            #expect(stats.rejected == 0)
            #expect(bodies.count == 6)
            #expect(bodies[1]["image"]?.stringValue == "data:image/png;base64,iVBORwECAw==")
            #expect(bodies[3]["images"] == .array(["data:image/png;base64,iVBORwECAw==", "https://example.com/b.png"]))
            #expect(bodies[4]["video"]?.stringValue?.hasPrefix(live.simulator.baseURL) == true)
        }
    }

    @Test(arguments: SimulatorConfiguration.Dialect.allCases)
    func bothResponseDialects(dialect: SimulatorConfiguration.Dialect) async throws {
        try await LiveHarness.with({ $0.dialect = dialect }) { live in
            let reporter = try await live.run("local v = text_to_video 'x'\nlog(v.status, v.url ~= nil)")
            #expect(reporter.logs == ["[log] succeeded\ttrue"])
            try await LiveHarness.with({ $0.dialect = dialect; $0.faults.taskFailure = 1 }) { failing in
                let failure = try await failing.failure("text_to_video 'x'")
                #expect(failure.code == "task_failed")
                #expect(failure.message.contains("content filter"))
            }
        }
    }

    @Test(arguments: [SimulatorConfiguration.PollPaths.generationsOnly, .videosOnly])
    func pollPathFallback(paths: SimulatorConfiguration.PollPaths) async throws {
        try await LiveHarness.with({ $0.pollPaths = paths }) { live in
            try await live.run("map({1, 2, 3}, function(i) return text_to_video{ prompt = 'p' .. i } end)")
            #expect(live.outputFiles.count == 3)
        }
    }

    @Test func theUsersFiveExamplesArriveAsOnThePage() async throws {
        try await LiveHarness.with { live in
            // The page's examples as Lua tables given to generate{}, field for field.
            let examples: [String] = [
                #"{"model": "veo3.1-video-1080p", "prompt": " camera, camera. ", "size": "1080p", "aspect_ratio": "16:9", "duration": 8, "extra_body": {"generate_audio": true, "negative_prompt": ", blur", "seed": 7}}"#,
                #"{"model": "veo3.1-video-720p", "prompt": ", and. ", "image": "https://example.com/keyframe.png", "size": "720p", "aspect_ratio": "16:9", "duration": 6, "extra_body": {"generate_audio": false, "negative_prompt": "artifacts, "}}"#,
                #"{"model": "veo3.1-fast-video-1080p", "prompt": ", subject, cameralanguage. ", "image": "https://example.com/start-frame.png", "last_image": "https://example.com/end-frame.png", "size": "1080p", "aspect_ratio": "16:9", "duration": 6, "extra_body": {"generate_audio": true}}"#,
                #"{"model": "veo3.1-video-1080p", "prompt": ", and. ", "images": ["https://example.com/ref-1.png", "https://example.com/ref-2.png"], "size": "1080p", "aspect_ratio": "9:16", "duration": 6, "extra_body": {"generate_audio": true, "seed": 11}}"#,
                #"{"model": "veo3.1-video-720p", "prompt": " video action, scenariostyle. ", "video": "https://example.com/source.mp4", "size": "720p", "duration": 6, "extra_body": {"negative_prompt": ", ", "seed": 9}}"#,
            ]
            let values = try examples.map { try JSONValue.parse(Data($0.utf8)) }
            try await live.run(values.map { "generate" + luaLiteral($0) }.joined(separator: "\n"))
            let bodies = await live.simulator.state.receivedBodies
            #expect(bodies == values)
        }
    }

    // MARK: Faults

    @Test func rateLimitsAreRetriedUntilTheyPass() async throws {
        try await LiveHarness.with({ $0.faults.rateLimited = 0.4; $0.seed = 7 }) { live in
            try await live.run("map({1,2,3,4,5,6}, function(i) return text_to_video{ prompt = 'p' .. i } end)")
            let stats = await live.simulator.state.stats
            #expect(stats.faultsInjected > 0)
            #expect(stats.submissions == 6 && stats.duplicateSubmissions == 0)
            #expect(live.outputFiles.count == 6)
        }
    }

    @Test func serverErrorsOnPollsAndDownloadsAreRetried() async throws {
        try await LiveHarness.with({ $0.faults.serverError = 0.4; $0.faults.includeSubmissions = false; $0.seed = 3 }) { live in
            try await live.run("map({1,2,3,4,5}, function(i) return text_to_video{ prompt = 'p' .. i } end)")
            #expect(await live.simulator.state.stats.faultsInjected > 0)
            #expect(live.outputFiles.count == 5)
        }
    }

    @Test func aSubmissionThatKeepsFailingRaisesAPIError() async throws {
        try await LiveHarness.with({ $0.faults.serverError = 1 }) { live in
            let failure = try await live.failure("text_to_video 'x'")
            #expect(failure.code == "api_error" || failure.code == "timeout")
            #expect(failure.message.hasPrefix("script.lua:1: text_to_video: submitting: the gateway answered 5"))
            #expect(live.outputFiles.isEmpty)
        }
    }

    @Test func droppedConnectionsOnPollsAndDownloadsAreRetried() async throws {
        try await LiveHarness.with({ $0.faults.dropConnection = 0.3; $0.faults.includeSubmissions = false; $0.seed = 11 }) { live in
            try await live.run("map({1,2,3,4,5}, function(i) return text_to_video{ prompt = 'p' .. i } end)")
            #expect(await live.simulator.state.stats.faultsInjected > 0)
            #expect(live.outputFiles.count == 5)
        }
    }

    @Test func aDroppedSubmissionIsNeverSentAgain() async throws {
        try await LiveHarness.with({ $0.faults.dropConnection = 1 }) { live in
            let failure = try await live.failure("text_to_video 'x'")
            #expect(failure.code == "network")
            #expect(failure.message.contains("may have been accepted and billed"))
            let stats = await live.simulator.state.stats
            #expect(stats.droppedSubmissions == 1, "the POST was sent \(stats.droppedSubmissions) times")
        }
    }

    @Test func slowResponsesAreWaitedFor() async throws {
        try await LiveHarness.with({ $0.faults.slow = 0.5; $0.faults.slowSeconds = 0.2; $0.seed = 5 }) { live in
            try await live.run("parallel(function() text_to_video 'a' end, function() text_to_video 'b' end)")
            #expect(live.outputFiles.count == 2)
        }
    }

    @Test func malformedPollRepliesAreRetried() async throws {
        // Seed 3 garbles the very first poll: a loaded machine that polls each task only once
        // still meets a fault (seed 2 missed its first four rolls).
        try await LiveHarness.with({ $0.faults.malformed = 0.4; $0.faults.includeSubmissions = false; $0.seed = 3; $0.generationSeconds = 0.6 }) { live in
            try await live.run("map({1,2,3,4}, function(i) return text_to_video{ prompt = 'p' .. i } end)")
            #expect(await live.simulator.state.stats.faultsInjected > 0)
            #expect(live.outputFiles.count == 4)
        }
    }

    @Test func aMalformedSubmissionReplyIsAnAPIErrorNotARetry() async throws {
        try await LiveHarness.with({ $0.faults.malformed = 1 }) { live in
            let failure = try await live.failure("text_to_video 'x'")
            #expect(failure.code == "api_error")
            #expect(failure.message.contains("task id is unknown"))
        }
    }

    @Test func failedTasksRaiseTaskFailedWithTheirID() async throws {
        try await LiveHarness.with({ $0.faults.taskFailure = 1 }) { live in
            let reporter = try await live.run("""
                local ok, err = pcall(text_to_video, { prompt = "x" })
                log(ok, err.code, err.task_id ~= nil, err.message:find("content filter", 1, true) ~= nil)
                """)
            #expect(reporter.logs == ["[log] false\ttask_failed\ttrue\ttrue"])
            #expect(live.outputFiles.isEmpty)
        }
    }

    @Test func anExpiredResultURLFallsBackToTheContentEndpoint() async throws {
        try await LiveHarness.with({ $0.faults.missingResult = 1 }) { live in
            try await live.run("text_to_video 'x'")
            #expect(live.outputFiles.count == 1)
        }
    }

    @Test func aTaskPastItsDeadlineTimesOut() async throws {
        try await LiveHarness.with({ $0.generationSeconds = 30 }, taskTimeout: 4) { live in
            let failure = try await live.failure("text_to_video 'x'")
            #expect(failure.code == "timeout")
            #expect(failure.taskID != nil)
            #expect(failure.message.contains("reel task"))
        }
    }

    @Test func aRefusedKeyIsAnAPIErrorThatSaysWhatToCheck() async throws {
        try await LiveHarness.with({ $0.requiredKey = "sk-right" }, apiKey: "sk-wrong") { live in
            let failure = try await live.failure("text_to_video 'x'")
            #expect(failure.code == "api_error")
            #expect(failure.message.contains("401") && failure.message.contains("REEL_API_KEY"))
            #expect(!failure.message.contains("sk-wrong"))
        }
    }

    @Test func noPartialFilesAfterAnyFault() async throws {
        try await LiveHarness.with({ $0.faults.dropConnection = 0.3; $0.faults.serverError = 0.2; $0.faults.includeSubmissions = false; $0.seed = 99 }) { live in
            _ = try? await live.run("map({1,2,3,4,5,6,7,8}, function(i) return text_to_video{ prompt = 'p' .. i } end)")
            #expect(!live.outputFiles.contains { $0.contains(".partial") })
        }
    }

    /// A video that cannot be written (here the output folder is a file) is a `disk` error in
    /// the system's words; the task is kept, and once the folder is mended a re-run fetches it
    /// without buying it again.
    @Test func aVideoThatCannotBeWrittenIsADiskErrorAndIsNotBoughtAgain() async throws {
        try await LiveHarness.with { live in
            let out = live.scripts.directory.appendingPathComponent("out").path
            #expect(FileManager.default.createFile(atPath: out, contents: Data("not a folder".utf8)))
            let failure = try await live.failure("text_to_video 'x'")
            #expect(failure.code == "disk")
            #expect(failure.message.contains("cannot write the video for task") && failure.message.contains("Not a directory"), "\(failure.message)")
            #expect(failure.message.hasSuffix("the task is kept in the journal: once that is fixed, the same call fetches it without paying again"), "\(failure.message)")
            try FileManager.default.removeItem(atPath: out)
            try await live.run("text_to_video 'x'")
            #expect(live.outputFiles.count == 1 && !live.outputFiles.contains { $0.contains(".partial") })
            #expect(await live.simulator.state.stats.submissions == 1)
        }
    }

    @Test func aVideoThatCannotBeMovedIntoPlaceIsADiskErrorAndLeavesNothingHalfWritten() async throws {
        try await LiveHarness.with { live in
            let reporter = try await live.run("log(text_to_video('x').id)")
            let id = try #require(reporter.logs.first?.replacingOccurrences(of: "[log] ", with: ""))
            // A folder (with something in it) where the video should go: refused, never replaced.
            let folder = live.scripts.directory.appendingPathComponent("kept")
            let target = folder.appendingPathComponent("take.mp4")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: target.appendingPathComponent("inside").path, contents: Data()))
            do {
                try await live.client.download(id, resultURL: nil, to: target.path)
                Issue.record("the download was moved over a folder")
            } catch let error as VideoAPIError {
                #expect(error.code == .disk)
                #expect(error.message.contains("\(target.path) is a folder; give a file name"), "\(error.message)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["take.mp4"])
        }
    }

    @Test func saveCopiesAtomicallyToTheGivenPath() async throws {
        try await LiveHarness.with { live in
            let target = live.scripts.directory.appendingPathComponent("kept/boat.mp4").path
            let reporter = try await live.run("local v = text_to_video 'x'\nlog(v:save('\(target)'))\nlog(v:save() == v.path)")
            #expect(reporter.logs == ["[log] \(target)", "[log] true"])
            #expect(FileManager.default.fileExists(atPath: target))
        }
    }
}

/// A JSON value written as a Lua table constructor.
func luaLiteral(_ json: JSONValue) -> String {
    switch json {
    case .null: return "nil"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .double(let d): return String(d)
    case .string(let s): return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    case .array(let items): return "{" + items.map(luaLiteral).joined(separator: ", ") + "}"
    case .object(let fields): return "{" + fields.map { "[\"\($0.0)\"] = \(luaLiteral($0.1))" }.joined(separator: ", ") + "}"
    }
}
