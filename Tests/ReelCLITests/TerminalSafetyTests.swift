import Foundation
import Testing

/// Text from a gateway, the journal or a prompt reaches the terminal shown, never obeyed:
/// reel runs on a pseudo-terminal and the test reads every byte it writes, as a terminal would.
@Suite struct TerminalSafetyTests {
    typealias Terminal = ReplPTYTests.Terminal

    /// Retitles the window (OSC 0), writes the clipboard (OSC 52), clears the screen (C1 CSI),
    /// reverses what follows (U+202E).
    static let hostile = "\u{1B}]0;GWTITLE\u{07}\u{1B}]52;c;aGk=\u{07}\u{9B}2J\u{202E}"
    /// How reel shows it.
    static let shown = "\\e]0;GWTITLE\\a\\e]52;c;aGk=\\a\\u{9B}2J\\u{202E}"
    static let statusWord = "\u{1B}]0;WORD\u{07}\u{9B}2J\u{202E}"
    static let shownStatusWord = "\\e]0;WORD\\a\\u{9B}2J\\u{202E}"
    static let taskIDSuffix = "\u{1B}]0;ID\u{07}"
    static let prompt = "two\nlines\rover\u{07}bell"
    static let shownPrompt = "two\\nlines\\rover\\abell"

    /// What in these bytes a terminal would obey, besides reel's own redraw of its live block
    /// (cursor up, erase down) and the terminal's own line ends.
    static func obeyed(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self)
            .replacingOccurrences(of: "\u{1B}\\[\\d+A\u{1B}\\[J", with: "", options: .regularExpression)
            .replacingOccurrences(of: "\r\n", with: "\n")
            .unicodeScalars.filter { scalar in
                switch scalar.value {
                case 0x0A: false
                case 0x00..<0x20, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
                default: false
                }
            }.map { "U+" + String($0.value, radix: 16, uppercase: true) }
    }

    /// Runs reel on a pseudo-terminal to its end: its exit status and everything it wrote.
    static func onTerminal(_ arguments: [String], in dir: URL, environment: [String: String] = [:]) async throws -> (status: Int32?, screen: String, bytes: [UInt8]) {
        let terminal = try Terminal(arguments, in: dir.path, environment: environment)
        let status = await terminal.exitStatus(timeout: 90)
        _ = await terminal.wait(for: "\u{0}", timeout: 10)  // reads what is left, to the end of output
        return (status, String(decoding: terminal.bytes, as: UTF8.self), terminal.bytes)
    }

    static func scratch(_ script: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-term-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try script.write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        return dir
    }

    static let script = "text_to_video{ prompt = \"two\\nlines\\rover\\abell\", duration = 4 }\n"

    /// The live view, the summary, `reel history` (and `--json`) and `reel task` of a run whose
    /// gateway sends escape sequences in its failure reason, status word and task id.
    @Test func aHostileFailureIsShownNotObeyed() async throws {
        let dir = try Self.scratch(Self.script)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await Self.onTerminal(["run", "s.lua", "--simulate", "--latency", "2", "--task-failure-rate", "1",
                                             "--failure-reason", Self.hostile, "--status-word", Self.statusWord,
                                             "--task-id-suffix", Self.taskIDSuffix], in: dir)
        #expect(run.status == 1, "\(run.screen.debugDescription)")
        #expect(run.screen.contains("\u{1B}[J"), "the live view was drawn: \(run.screen.debugDescription)")
        #expect(run.screen.contains(Self.shownPrompt) && run.screen.contains("\\e]0;ID\\a"), "\(run.screen.debugDescription)")
        #expect(run.screen.contains("reports status '\(Self.shownStatusWord)'"), "\(run.screen.debugDescription)")
        // The live block's own line (a status followed by progress or time; the warning quotes it).
        #expect(run.screen.contains(Self.shownStatusWord + " "), "\(run.screen.debugDescription)")
        #expect(run.screen.contains("Failed:") && run.screen.components(separatedBy: Self.shown).count >= 3,
                "the failure line, the summary and the error: \(run.screen.debugDescription)")
        #expect(Self.obeyed(run.bytes) == [], "\(run.screen.debugDescription)")

        let history = try await Self.onTerminal(["history"], in: dir)
        #expect(history.status == 0)
        #expect(history.screen.contains(Self.shown) && history.screen.contains(Self.shownPrompt) && history.screen.contains("\\e]0;ID\\a"),
                "\(history.screen.debugDescription)")
        #expect(Self.obeyed(history.bytes) == [], "\(history.screen.debugDescription)")

        // --json: escaped, yet the same text once decoded.
        let json = try await Self.onTerminal(["history", "--json"], in: dir)
        #expect(Self.obeyed(json.bytes) == [], "\(json.screen.debugDescription)")
        let runs = CLI.parseJSONArray(json.screen.replacingOccurrences(of: "\r\n", with: "\n"))
        let task = try #require((runs.first?["tasks"] as? [[String: Any]])?.first, "\(json.screen.debugDescription)")
        #expect(task["prompt"] as? String == Self.prompt)
        #expect((task["error"] as? String)?.contains(Self.hostile) == true)
        let id = try #require(task["task_id"] as? String)
        #expect(id.hasSuffix(Self.taskIDSuffix))

        let shown = try await Self.onTerminal(["task", id], in: dir)
        #expect(shown.status == 0, "\(shown.screen.debugDescription)")
        #expect(shown.screen.contains(Self.shownPrompt) && shown.screen.contains("\\e]0;ID\\a"), "\(shown.screen.debugDescription)")
        #expect(Self.obeyed(shown.bytes) == [], "\(shown.screen.debugDescription)")
    }

    /// A 400 whose body carries escape sequences, and one gzipped though reel asked for no
    /// encoding (its binary header dumped as text): shown, not obeyed.
    @Test func gatewayErrorBodiesAreShownNotObeyed() async throws {
        let dir = try Self.scratch(Self.script)
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = try await Self.onTerminal(["run", "s.lua", "--simulate", "--reject-with", "refused: " + Self.hostile], in: dir)
        #expect(plain.status == 1)
        #expect(plain.screen.contains("answered 400: refused: " + Self.shown), "\(plain.screen.debugDescription)")
        #expect(Self.obeyed(plain.bytes) == [], "\(plain.screen.debugDescription)")

        let gzipped = try await Self.onTerminal(["run", "s.lua", "--simulate", "--reject-with", "refused: " + Self.hostile, "--gzip-rejections"], in: dir)
        #expect(gzipped.status == 1)
        #expect(gzipped.screen.contains("answered 400: \\x1F"), "the gzip header, shown: \(gzipped.screen.debugDescription)")
        #expect(Self.obeyed(gzipped.bytes) == [], "\(gzipped.screen.debugDescription)")
    }

    /// `reel task` asking a gateway (not the journal) whose status word and task ids carry
    /// escape sequences, and its error for an id it does not know.
    @Test func aHostileGatewaysTaskIsShownNotObeyed() async throws {
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "600", "--status-word", Self.statusWord,
                                         "--task-id-suffix", Self.taskIDSuffix])
        defer { server.stop() }
        let environment = ["REEL_BASE_URL": try await server.waitForURL(), "REEL_API_KEY": "sk-term"]
        let dir = try Self.scratch(Self.script)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Ends at its time limit, the task journaled as submitted.
        _ = try await CLI.run(["run", "s.lua", "--timeout", "1"], in: dir, environment: environment)
        let runs = CLI.parseJSONArray(try await CLI.run(["history", "--json"], in: dir).stdout)
        let id = try #require(((runs.first?["tasks"] as? [[String: Any]])?.first?["task_id"]) as? String)

        let shown = try await Self.onTerminal(["task", id], in: dir, environment: environment)
        #expect(shown.status == 0, "\(shown.screen.debugDescription)")
        #expect(shown.screen.contains(Self.shownStatusWord) && shown.screen.contains("\\e]0;ID\\a"), "\(shown.screen.debugDescription)")
        #expect(Self.obeyed(shown.bytes) == [], "\(shown.screen.debugDescription)")

        let unknown = try await Self.onTerminal(["task", id + "\u{07}\u{1B}]0;X"], in: dir, environment: environment)
        #expect(unknown.status == 1)
        #expect(unknown.screen.contains("404") && unknown.screen.contains("\\a\\e]0;X"), "\(unknown.screen.debugDescription)")
        #expect(Self.obeyed(unknown.bytes) == [], "\(unknown.screen.debugDescription)")
    }
}
