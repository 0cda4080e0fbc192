import Foundation
import Testing
import VideoAPI
@testable import Workflow

/// The live block on a terminal, written into a pipe to read what a terminal would get.
@Suite struct ProgressDisplayTests {
    /// A take's label: the script line's file name, the prompt cut at 24 characters (not
    /// bytes), the seed.
    @Test func aLabelNamesTheLineThePromptAndTheSeed() {
        #expect(ProgressDisplay.label(prompt: "a lighthouse", seed: nil, callSite: "scripts/sweep.lua:4") == "sweep.lua:4 \"a lighthouse\"")
        let twentyFour = String(repeating: "x", count: 24)
        #expect(ProgressDisplay.label(prompt: twentyFour, seed: "7", callSite: nil) == "\"\(twentyFour)\" seed 7")
        #expect(ProgressDisplay.label(prompt: twentyFour + "y", seed: nil, callSite: "s.lua:1") == "s.lua:1 \"\(String(repeating: "x", count: 23))…\"")
        let emoji = String(repeating: "🎬", count: 24)  // 96 bytes, 24 characters: not cut
        #expect(ProgressDisplay.label(prompt: emoji, seed: nil, callSite: nil) == "\"\(emoji)\"")
    }

    @Test func ctrlZClearsTheLiveBlockAndFgDrawsItAnewBelowTheShellsLines() async throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        let display = ProgressDisplay(style: .live, output: StandardStream(descriptor: ends[1]))
        defer { display.finish() }
        let request = try RequestParser(caller: "text_to_video", expectedMode: .text, source: .wire).parse([("prompt", "a lighthouse")]).request
        display.update(display.begin(request, callSite: "s.lua:1", sequence: 1), .submitted(id: "task-1"))
        try await Task.sleep(nanoseconds: 600_000_000)  // the block is drawn (and redrawn by the ticker)
        #expect(Self.drain(ends[0]).contains("[1] text_to_video"))

        // Ctrl-Z: the block is erased before the shell writes, and nothing is drawn while stopped.
        display.suspend()
        let cleared = Self.drain(ends[0])
        #expect(cleared.hasSuffix("\u{1B}[J"), "\(cleared.debugDescription)")
        try await Task.sleep(nanoseconds: 600_000_000)
        #expect(Self.drain(ends[0]).isEmpty)

        // fg: drawn below the shell's lines, without moving up over them first.
        display.resume()
        let drawn = Self.drain(ends[0])
        #expect(drawn.hasPrefix("  [1] text_to_video"), "\(drawn.debugDescription)")
    }

    /// Whatever the pipe holds now.
    static func drain(_ descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
