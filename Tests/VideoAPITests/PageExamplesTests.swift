import Foundation
@testable import Support
import Testing
@testable import VideoAPI

/// The five request examples of the API's documentation, field for field.
enum PageExamples {
    static let textToVideo = #"{"model": "veo3.1-video-1080p", "prompt": " camera, camera. ", "size": "1080p", "aspect_ratio": "16:9", "duration": 8, "extra_body": {"generate_audio": true, "negative_prompt": ", blur", "seed": 7}}"#
    static let imageToVideo = #"{"model": "veo3.1-video-720p", "prompt": ", and. ", "image": "https://example.com/keyframe.png", "size": "720p", "aspect_ratio": "16:9", "duration": 6, "extra_body": {"generate_audio": false, "negative_prompt": "artifacts, "}}"#
    static let firstAndLast = #"{"model": "veo3.1-fast-video-1080p", "prompt": ", subject, cameralanguage. ", "image": "https://example.com/start-frame.png", "last_image": "https://example.com/end-frame.png", "size": "1080p", "aspect_ratio": "16:9", "duration": 6, "extra_body": {"generate_audio": true}}"#
    static let reference = #"{"model": "veo3.1-video-1080p", "prompt": ", and. ", "images": ["https://example.com/ref-1.png", "https://example.com/ref-2.png"], "size": "1080p", "aspect_ratio": "9:16", "duration": 6, "extra_body": {"generate_audio": true, "seed": 11}}"#
    static let extension_ = #"{"model": "veo3.1-video-720p", "prompt": " video action, scenariostyle. ", "video": "https://example.com/source.mp4", "size": "720p", "duration": 6, "extra_body": {"negative_prompt": ", ", "seed": 9}}"#

    static let all: [(name: String, json: String, mode: GenerationMode)] = [
        ("text-to-video", textToVideo, .text), ("single-image-to-video", imageToVideo, .image),
        ("first-and-last-frame", firstAndLast, .frames), ("reference", reference, .reference),
        ("video extension", extension_, .extend),
    ]
}

@Suite struct PageExamplesTests {
    @Test(arguments: PageExamples.all.map(\.name))
    func exampleParsesAndEncodesToTheSameJSON(name: String) throws {
        let example = PageExamples.all.first { $0.name == name }!
        let json = try JSONValue.parse(Data(example.json.utf8))
        let parsed = try RequestParser(caller: "request", expectedMode: nil, source: .wire).parse(json.objectFields!)
        #expect(parsed.request.mode == example.mode)
        let encoded = parsed.request.body()
        #expect(encoded == json)
        // And the text itself parses back to the same value.
        #expect(try JSONValue.parse(Data(encoded.encoded().utf8)) == json)
    }

    @Test func durationIsAJSONInteger() throws {
        let json = try JSONValue.parse(Data(PageExamples.textToVideo.utf8))
        let parsed = try RequestParser(caller: "request", expectedMode: nil, source: .wire).parse(json.objectFields!)
        #expect(parsed.request.body().encoded().contains(#""duration":8"#))
    }

    @Test func fieldsComeOutInThePagesOrder() throws {
        let json = try JSONValue.parse(Data(PageExamples.firstAndLast.utf8))
        let parsed = try RequestParser(caller: "request", expectedMode: nil, source: .wire).parse(json.objectFields!)
        let keys = parsed.request.body().objectFields!.map(\.0)
        #expect(keys == ["model", "prompt", "image", "last_image", "size", "aspect_ratio", "duration", "extra_body"])
    }

    @Test func theGatewaysOwnExamplesOnlyWarn() throws {
        // first+last at 6 s and reference at 6 s break upstream rules: warnings, not errors.
        for example in [PageExamples.firstAndLast, PageExamples.reference, PageExamples.extension_] {
            let json = try JSONValue.parse(Data(example.utf8))
            let parsed = try RequestParser(caller: "request", expectedMode: nil, source: .wire).parse(json.objectFields!)
            #expect(!parsed.warnings.isEmpty)
        }
    }
}
