import Foundation
@testable import Support
import Testing
@testable import VideoAPI

/// Every error rule of the request model, with the message the user sees.
@Suite struct ValidationTests {
    private func problems(_ mode: GenerationMode?, _ options: [(String, JSONValue)], caller: String = "text_to_video") -> [String] {
        do {
            _ = try RequestParser(caller: caller, expectedMode: mode, source: .lua(baseDirectory: "/tmp")).parse(options)
            return []
        } catch {
            return error.problems
        }
    }

    private func expectProblem(_ mode: GenerationMode?, _ options: [(String, JSONValue)], caller: String = "text_to_video", _ expected: String) {
        let found = problems(mode, options, caller: caller)
        #expect(found.contains(expected), "got \(found)")
    }

    @Test func unknownModelSuggestsTheNearest() {
        expectProblem(.text, [("prompt", "x"), ("model", "veo3.1-video-1080")],
                      "text_to_video: unknown model 'veo3.1-video-1080' (did you mean 'veo3.1-video-1080p'? see `reel models`)")
    }

    @Test func aMistypedModelIsSuggestedInItsOwnTier() {
        expectProblem(.text, [("prompt", "x"), ("model", "veo3.1-fast-720p")],
                      "text_to_video: unknown model 'veo3.1-fast-720p' (did you mean 'veo3.1-fast-video-720p'? see `reel models`)")
        expectProblem(.text, [("prompt", "x"), ("model", "veo-4k")],
                      "text_to_video: unknown model 'veo-4k' (did you mean 'veo3.1-video-4k'? see `reel models`)")
    }

    @Test func sizeMustBeTheModelsOwn() {
        expectProblem(.text, [("prompt", "x"), ("model", "veo3.1-video-1080p"), ("size", "720p")],
                      "text_to_video: 'size' must be 1080p for veo3.1-video-1080p (got 720p); leave it out to use the model's own")
    }

    @Test func sizeDefaultsToTheModels() throws {
        let parsed = try RequestParser(caller: "t", expectedMode: .text, source: .wire).parse([("prompt", "x"), ("model", "veo3.1-video-4k")])
        #expect(parsed.request.size == "4k")
    }

    @Test func aspectRatio() {
        expectProblem(.text, [("prompt", "x"), ("aspect_ratio", "4:3")], "text_to_video: 'aspect_ratio' must be 16:9 or 9:16 (got 4:3)")
    }

    @Test func duration() {
        expectProblem(.text, [("prompt", "x"), ("duration", .int(5))], "text_to_video: 'duration' must be 4, 6 or 8 (got 5)")
        // From Lua a numeric string is its number (args and CSV cells are strings); not on the wire.
        #expect(problems(.text, [("prompt", "x"), ("duration", "8")]).isEmpty)
        expectProblem(.text, [("prompt", "x"), ("duration", "eight")], "text_to_video: 'duration' must be a number (got string \"eight\")")
        expectProblem(.text, [("prompt", "x"), ("duration", .double(6.5))], "text_to_video: 'duration' must be a whole number (got 6.5)")
    }

    @Test func referenceImagesNeedAStandardModel() {
        expectProblem(.reference, [("prompt", "x"), ("images", .array(["https://a/1.png", "https://a/2.png"]))], caller: "reference_to_video",
                      "reference_to_video: veo3.1-fast-video-720p cannot do multi-image-reference ('images'); use veo3.1-video-720p")
    }

    @Test func referenceImagesCount() {
        expectProblem(.reference, [("prompt", "x"), ("model", "veo3.1-video-720p"), ("images", .array(["https://a/1.png"]))], caller: "reference_to_video",
                      "reference_to_video: 'images' needs 2 or 3 reference images (got 1)")
        expectProblem(.reference, [("prompt", "x"), ("model", "veo3.1-video-720p"), ("images", .array(["https://a/1", "https://a/2", "https://a/3", "https://a/4"]))], caller: "reference_to_video",
                      "reference_to_video: 'images' needs 2 or 3 reference images (got 4)")
    }

    @Test func lastImageNeedsImage() {
        expectProblem(nil, [("prompt", "x"), ("last_image", "https://a/end.png")], caller: "generate",
                      "generate: 'last_image' needs 'image' (the first frame)")
    }

    @Test func onlyOneInputFamily() {
        expectProblem(nil, [("prompt", "x"), ("image", "https://a/1.png"), ("video", "https://a/v.mp4")], caller: "generate",
                      "generate: give only one of 'image', 'images' or 'video' (got 'image' and 'video')")
    }

    @Test func promptRequiredAndNotEmpty() {
        expectProblem(.text, [], "text_to_video: 'prompt' is required")
        expectProblem(.text, [("prompt", "   ")], "text_to_video: 'prompt' must not be empty")
        expectProblem(.text, [("prompt", .int(3))], "text_to_video: 'prompt' must be a string (got integer)")
    }

    @Test func seedRules() {
        expectProblem(.text, [("prompt", "x"), ("seed", .double(7.5))], "text_to_video: 'seed' must be a whole number (got 7.5)")
        expectProblem(.text, [("prompt", "x"), ("seed", .double(7))], "text_to_video: 'seed' must be a whole number (got 7.0)")
        expectProblem(.text, [("prompt", "x"), ("seed", .int(-1))], "text_to_video: 'seed' must be from 0 to 4294967295 (got -1)")
        expectProblem(.text, [("prompt", "x"), ("extra_body", .object([("seed", "7")]))], "text_to_video: 'extra_body.seed' must be a number (got string \"7\")")
    }

    @Test func unknownOptionSuggestsTheNearest() {
        expectProblem(.text, [("prompt", "x"), ("aspect", "16:9")], "text_to_video: unknown option 'aspect' (did you mean 'aspect_ratio'?)")
        expectProblem(.text, [("prompt", "x"), ("durration", .int(8))], "text_to_video: unknown option 'durration' (did you mean 'duration'?)")
    }

    @Test func modeFunctionsRefuseOtherModesInputs() {
        expectProblem(.text, [("prompt", "x"), ("image", "https://a/1.png")], "text_to_video: 'image' is not an option of text_to_video (use image_to_video)")
        expectProblem(.image, [("prompt", "x")], caller: "image_to_video", "image_to_video: 'image' is required")
        expectProblem(.extend, [("prompt", "x")], caller: "extend", "extend: 'video' is required")
    }

    @Test func flatAndNestedExtrasMustAgree() throws {
        expectProblem(.text, [("prompt", "x"), ("seed", .int(1)), ("extra_body", .object([("seed", .int(2))]))],
                      "text_to_video: 'seed' is given twice with different values (flat and in extra_body)")
        let parsed = try RequestParser(caller: "t", expectedMode: .text, source: .lua(baseDirectory: "/")).parse(
            [("prompt", "x"), ("seed", .int(3)), ("generate_audio", true), ("extra_body", .object([("style", "noir")]))])
        #expect(parsed.request.extraBody.json == .object([("generate_audio", true), ("seed", .int(3)), ("style", "noir")]))
    }

    @Test func wireRefusesFlatExtrasAndLocalPaths() {
        func wire(_ o: [(String, JSONValue)]) -> [String] {
            do throws(RequestError) {
                _ = try RequestParser(caller: "request", expectedMode: nil, source: .wire).parse(o)
                return []
            } catch { return error.problems }
        }
        #expect(wire([("prompt", "x"), ("seed", .int(1))]).contains("request: unknown option 'seed'"))
        #expect(wire([("prompt", "x"), ("image", "frame.png")]).contains("request: 'image' must be an http(s) URL or a data: URI (got frame.png)"))
    }

    @Test func localFilesAreCheckedBeforeSending() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-media-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: dir.appendingPathComponent("frame.png"))
        let parser = RequestParser(caller: "image_to_video", expectedMode: .image, source: .lua(baseDirectory: dir.path))
        let parsed = try parser.parse([("prompt", "x"), ("image", "frame.png")])
        #expect(try parsed.request.image?.wireString() == "data:image/png;base64,iVBORw==")
        #expect(throws: RequestError.self) { try parser.parse([("prompt", "x"), ("image", "missing.png")]) }
        #expect(throws: RequestError.self) { try parser.parse([("prompt", "x"), ("image", "notes.txt")]) }
        // Past the inline cap: a sparse file of 21 MiB.
        let big = dir.appendingPathComponent("big.png")
        FileManager.default.createFile(atPath: big.path, contents: nil)
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: UInt64(21 << 20))
        try handle.close()
        let error = #expect(throws: RequestError.self) { try parser.parse([("prompt", "x"), ("image", "big.png")]) }
        #expect(error?.problems.first?.contains("at most 20 MiB") == true)
    }

    @Test func warningsForUpstreamRules() throws {
        let parser = RequestParser(caller: "extend", expectedMode: .extend, source: .wire)
        let parsed = try parser.parse([("prompt", "x"), ("model", "veo3.1-video-1080p"), ("video", "https://a/v.mp4"), ("aspect_ratio", "16:9")])
        #expect(parsed.warnings.contains("extend: extension is 720p-only upstream; veo3.1-video-1080p may refuse it"))
        #expect(parsed.warnings.contains("extend: 'aspect_ratio' is ignored for video extension upstream"))
    }

    @Test func everyProblemIsReportedNotJustTheFirst() {
        let found = problems(.text, [("prompt", ""), ("duration", .int(5)), ("aspect_ratio", "1:1")])
        #expect(found.count == 3)
    }
}
