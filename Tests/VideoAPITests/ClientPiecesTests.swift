import Foundation
import Support
import Testing
@testable import VideoAPI

/// The small pieces of the client: redacted errors, media checks, status words (the generic
/// ones it stands on: SupportTests).
@Suite struct ClientPiecesTests {
    /// A gateway's message never carries the key into an error, a journal or a script.
    @Test func anErrorsMessageIsRedacted() {
        Redaction.register("sk-registered-key-123")
        let error = VideoAPIError(.apiError, "the gateway said sk-registered-key-123")
        #expect(error.message == "the gateway said [redacted]")
    }

    @Test func onlyVideosPassTheMediaCheck() {
        #expect(MediaSignature.looksLikeVideo(Array("\0\0\0\u{18}ftypisom".utf8)))
        #expect(MediaSignature.looksLikeVideo([0x1A, 0x45, 0xDF, 0xA3, 0, 0, 0, 0]))
        #expect(!MediaSignature.looksLikeVideo(Array("<html>Please".utf8)))
        #expect(MediaSignature.problem(contentType: "text/html; charset=utf-8") != nil)
        #expect(MediaSignature.problem(contentType: "application/json") != nil)
        #expect(MediaSignature.problem(contentType: "video/mp4") == nil)
        #expect(MediaSignature.problem(contentType: "application/octet-stream") == nil)
    }

    @Test func anUnknownFinalWordIsSettledByWhatTheReplyCarries() {
        #expect(TaskSnapshot(status: .unrecognized("ready_to_fetch"), resultURL: "https://x/v.mp4").settledStatus == .succeeded)
        #expect(TaskSnapshot(status: .unrecognized("moderated"), failureReason: "blocked").settledStatus == .failed)
        #expect(TaskSnapshot(status: .unrecognized("rendering"), progress: 40).settledStatus == .unrecognized("rendering"))
        #expect(TaskStatus(word: "DONE") == .succeeded && TaskStatus(word: "rejected") == .failed)
    }
}
