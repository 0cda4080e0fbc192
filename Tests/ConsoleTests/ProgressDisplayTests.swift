import Foundation
import Synchronization
import Testing
import VideoAPI
@testable import Console
import Workflow

/// The live block on a terminal, written into a pipe to read what a terminal would get.
@Suite struct ProgressDisplayTests {
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

    /// The live block fits the terminal, so each redraw's cursor-up lands on its first line:
    /// a line that wrapped, or a block taller than the screen, smeared a copy of the block
    /// into the scrollback at every redraw (seen in a 70×12 tmux pane).
    @Test func theLiveBlockFitsANarrowShortTerminal() {
        let takes = (1...40).map { n in
            LiveBlock.Line(head: "  [\(n)] text_to_video ", label: "wide.lua:3 \"a rather long prompt de…\" seed 12345",
                                      tail: " sim-1vwxnhm-\(n) running 90% 5s")
        }
        let footer = [LiveBlock.Line(head: "  spent 160 s of 160 s planned")]
        let lines = LiveBlock.lines(Array(takes.prefix(20)), of: 40, footer: footer, terminal: (rows: 12, columns: 70))
        #expect(lines.count == 10)  // 12 rows, less the cursor's line and the top one
        #expect(lines[8] == "  … and 32 more" && lines[9] == "  spent 160 s of 160 s planned", "\(lines)")
        // The label gives way; the number, the task id and the status stay.
        #expect(lines[0] == "  [1] text_to_video wide.lua:3 \"a rathe… sim-1vwxnhm-1 running 90% 5s", "\(lines[0])")
        #expect(lines.allSatisfy { $0.count <= 69 })
        // Roomy: the first 20 takes and the count of the rest.
        let roomy = LiveBlock.lines(Array(takes.prefix(20)), of: 40, footer: footer, terminal: (rows: 50, columns: 200))
        #expect(roomy.count == 22 && roomy[20] == "  … and 20 more")
        // Tiny: never more lines than the screen has.
        #expect(LiveBlock.lines(Array(takes.prefix(20)), of: 40, footer: footer, terminal: (rows: 3, columns: 40)) == ["  spent 160 s of 160 s planned"])
    }

    /// Wide characters take two cells, control characters are shown as escapes, and a cut ends in "…".
    @Test func aCutLineCountsTerminalCells() {
        #expect(LiveBlock.cut("abcdef", columns: 4) == "abc…")
        #expect(LiveBlock.cut("abcd", columns: 4) == "abcd")
        #expect(LiveBlock.cut("灯台の夜明け", columns: 7) == "灯台の…")  // 3 × 2 cells + "…"
        #expect(LiveBlock.fitted(.init(head: "a\nb", label: "\u{1B}]0;t\u{07}"), columns: 20) == "a\\nb\\e]0;t\\a")
    }

    /// On a real terminal (a pseudo-terminal 70 columns by 12 rows) the block reads its size.
    @Test func theLiveBlockReadsTheTerminalsSize() async throws {
        var master: Int32 = 0, slave: Int32 = 0
        var size = winsize(ws_row: 12, ws_col: 70, ws_xpixel: 0, ws_ypixel: 0)
        try #require(openpty(&master, &slave, nil, nil, &size) == 0)
        // A terminal's buffer holds a few KB: read it as a terminal would, while it is written.
        let screen = Mutex<[UInt8]>([])
        let terminal = master
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(terminal, &buffer, buffer.count)
                if count <= 0 { return }
                screen.withLock { $0 += buffer[..<count] }
            }
        }
        reader.start()
        defer { close(master) }
        let display = ProgressDisplay(style: .live, output: StandardStream(descriptor: slave))
        let request = try RequestParser(caller: "text_to_video", expectedMode: .text, source: .wire)
            .parse([("prompt", "a rather long prompt describing a scene in detail")]).request
        for n in 1...30 { display.update(display.begin(request, callSite: "wide.lua:3", sequence: n), .submitted(id: "sim-task-\(n)")) }
        try await Task.sleep(nanoseconds: 300_000_000)
        display.switchStyle(to: .quiet)  // erases the block, and draws no more
        try await Task.sleep(nanoseconds: 200_000_000)
        let drawn = String(decoding: screen.withLock { $0 }, as: UTF8.self)
        close(slave)
        // The last whole drawing: between the last two erases, less the cursor-up before the last.
        let drawings = drawn.components(separatedBy: "\u{1B}[J")
        try #require(drawings.count >= 3, "\(drawn.debugDescription)")
        let last = drawings[drawings.count - 2].replacingOccurrences(of: "\u{1B}\\[\\d+A$", with: "", options: .regularExpression)
        let lines = last.split(separator: "\r\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 10, "\(last.debugDescription)")
        #expect(lines.allSatisfy { $0.count <= 69 }, "\(last.debugDescription)")
    }

    /// A submission whose answer was lost is neither spent nor nothing: the summary says it
    /// may have been billed.
    @Test func aLostAnswerIsCountedAsMaybeBilled() throws {
        let display = ProgressDisplay(style: .quiet)
        let request = try RequestParser(caller: "text_to_video", expectedMode: .text, source: .wire)
            .parse([("prompt", "lost"), ("duration", 4)]).request
        display.update(display.begin(request, callSite: "s.lua:1", sequence: 1),
                       .failed(VideoAPIError(.apiError, "the reply is not JSON", submissionOutcomeUnknown: true)))
        let kept = display.begin(request, callSite: "s.lua:2", sequence: 2)
        display.update(kept, .submitted(id: "task-2"))
        display.update(kept, .failed(VideoAPIError(.network, "the poll broke off", taskID: "task-2", submissionOutcomeUnknown: true)))
        #expect(display.summary().contains("Spent 4 s; 4 s more may have been billed (outcome unknown)"), "\(display.summary())")
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
