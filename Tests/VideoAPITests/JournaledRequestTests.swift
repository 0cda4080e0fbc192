import Foundation
import Testing
@testable import VideoAPI

/// The journal's record of a request reads back as the request it was made from.
@Suite struct JournaledRequestTests {
    @Test func everyFieldComesBackFromTheRecord() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("journaled-\(UUID().uuidString).png")
        try Data([0x89, 0x50, 0x4e, 0x47]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let request = try RequestParser(caller: "frames_to_video", expectedMode: .frames, source: .lua(baseDirectory: "/tmp")).parse([
            ("prompt", "dawn to dusk"), ("image", .string(file.path)), ("last_image", "https://example.com/last.png"),
            ("duration", 6), ("seed", 7), ("generate_audio", true), ("negative_prompt", "blur"),
            ("extra_body", .object([("style", "ink")])),
        ]).request
        let local = try #require(request.image)
        let record = request.journaled(sha256: [local: "ab12"]).encoded()
        let read = try #require(GenerationRequest(journaled: record))
        #expect(read == request)
        #expect(read.extraBody.seed == 7 && read.extraBody.generateAudio == true && read.extraBody.passthrough["style"] == .string("ink"))
        #expect(record.contains(#""sha256":"ab12""#))
    }

    /// Rows from before the typed record held the plan's display form of a local file.
    @Test func theEarlierDisplayFormOfALocalFileReadsAsThatFile() throws {
        let earlier = #"{"model":"veo3.1-fast","prompt":"p","image":"data:image/png;base64,…(local file /a, b/still.png, 1234 bytes)","size":"720x1280","extra_body":{"seed":3}}"#
        let read = try #require(GenerationRequest(journaled: earlier))
        #expect(read.image == .localFile(path: "/a, b/still.png", mimeType: "image/png", byteCount: 1234))
        #expect(read.extraBody.seed == 3 && read.mode == .image)
    }
}
