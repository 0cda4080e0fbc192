import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `reel repl` driven through a real pseudo-terminal, keystroke by keystroke.
@Suite struct ReplPTYTests {
    /// A child process whose stdin, stdout and stderr are the slave side of a pty.
    final class Terminal {
        let master: Int32
        let pid: pid_t
        private(set) var screen = ""
        /// Every byte read, as written (`screen` decodes each read on its own).
        private(set) var bytes: [UInt8] = []

        init(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws {
            var master: Int32 = 0, slave: Int32 = 0
            var size = winsize(ws_row: 40, ws_col: 160, ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw CLIError(message: "openpty failed") }
            self.master = master
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for fd in [Int32(0), 1, 2] { posix_spawn_file_actions_adddup2(&actions, slave, fd) }
            posix_spawn_file_actions_addclose(&actions, master)
            var env = ProcessInfo.processInfo.environment
            env["REEL_BASE_URL"] = nil
            env["TERM"] = "xterm"
            for (name, value) in environment { env[name] = value }
            // The child's own working directory, through env -C: tests run side by side, so the
            // parent's must not move.
            let argv = (["/usr/bin/env", "-C", directory, CLI.executable.path] + arguments).map { strdup($0) } + [nil]
            let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, envp)
            close(slave)
            guard spawned == 0 else { throw CLIError(message: "spawn failed: \(spawned)") }
            self.pid = pid
        }

        func type(_ keys: String) { _ = keys.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) } }

        /// Reads until `text` has appeared `times` times on the screen, or the timeout. (Between
        /// reads it sleeps as a task, not in poll(2): a blocked thread of the task pool would
        /// hold up every other test's tasks.)
        @discardableResult
        func wait(for text: String, times: Int = 1, timeout: Double = 20) async -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if screen.components(separatedBy: text).count - 1 >= times { return true }
                var fds = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                guard poll(&fds, 1, 0) > 0 else {
                    try? await Task.sleep(nanoseconds: 20_000_000)
                    continue
                }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { break }
                screen += String(decoding: buffer[0..<n], as: UTF8.self)
                bytes += buffer[0..<n]
            }
            return screen.components(separatedBy: text).count - 1 >= times
        }

        func exitStatus(timeout: Double = 20) async -> Int32? {
            let deadline = Date().addingTimeInterval(timeout)
            var status: Int32 = 0
            while Date() < deadline {
                if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xff }
                _ = await wait(for: "\u{0}", timeout: 0.05)
            }
            // Still running: say where it is stuck before ending it.
            let gdb = Process()
            gdb.executableURL = URL(fileURLWithPath: "/usr/bin/gdb")
            gdb.arguments = ["-batch", "-p", String(pid), "-ex", "thread apply all bt 12"]
            let pipe = Pipe()
            gdb.standardOutput = pipe
            gdb.standardError = FileHandle.nullDevice
            if (try? gdb.run()) != nil {
                let trace = await Reader(pipe.fileHandleForReading).text()
                await gdb.exit()
                print("reel repl did not exit; its threads:\n" + trace.split(separator: "\n").filter { $0.contains("#") || $0.hasPrefix("Thread") }.joined(separator: "\n"))
            }
            kill(pid, SIGKILL)
            return nil
        }
    }

    @Test func aSessionAtTheKeyboard() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-repl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Terminal(["repl", "--latency", "0.1"], in: dir.path)

        #expect(await t.wait(for: "reel> "), "no prompt: \(t.screen)")
        t.type("1 + 2\r")
        #expect(await t.wait(for: "\r\n3\r\n"), "an expression's value: \(t.screen)")

        t.type("function f()\r")
        #expect(await t.wait(for: "  ... "), "an unfinished entry continues")
        t.type("return 7\r")
        t.type("end\r")
        t.type("f()\r")
        #expect(await t.wait(for: "\r\n7\r\n"), "multi-line function: \(t.screen)")

        t.type("error('boom')\r")
        #expect(await t.wait(for: "error: repl:1: boom"), "errors are shown: \(t.screen)")
        t.type("2 * 3\r")
        #expect(await t.wait(for: "\r\n6\r\n"), "and the session goes on")

        t.type("\u{1B}[A\r")  // ↑ recalls 2 * 3
        #expect(await t.wait(for: "\r\n6\r\n", times: 2), "history: \(t.screen)")

        t.type("3 + 4\u{01}10 * \r")  // Ctrl-A, then insert at the start: 10 * 3 + 4
        #expect(await t.wait(for: "\r\n34\r\n"), "line editing: \(t.screen)")

        t.type("half a line\u{03}")
        #expect(await t.wait(for: "^C"), "Ctrl-C drops the line")
        t.type("v = text_to_video 'a kite'\r")
        t.type("v\r")
        #expect(await t.wait(for: "Video(id=sim-"), "a Video prints readably: \(t.screen)")
        #expect(await t.wait(for: "status=succeeded"))

        t.type("\u{04}")  // Ctrl-D
        #expect(await t.exitStatus() == 0, "screen: \(t.screen.suffix(400))")
        let history = try String(contentsOf: dir.appendingPathComponent(".reel/repl_history"), encoding: .utf8)
        #expect(history.contains("function f()\\nreturn 7\\nend"))
    }

    /// The keys of a shell: Home/End in their VT forms, Alt-b and Ctrl-W, Ctrl-K, Tab for
    /// functions, options and models, Ctrl-R, multi-line recall; errors name the REPL input.
    @Test func editingLikeAShell() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-repl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Terminal(["repl", "--latency", "0.1"], in: dir.path)
        #expect(await t.wait(for: "reel> "), "no prompt: \(t.screen)")

        t.type("23 + 4\u{1B}[1~1\u{1B}[4~ + 1\r")  // Home, "1", End: 123 + 4 + 1
        #expect(await t.wait(for: "\r\n128\r\n"), "Home/End: \(t.screen)")
        t.type("100 + 20 + 3\u{1B}b\u{17}\r")  // Alt-b before 3, Ctrl-W deletes "20 + "
        #expect(await t.wait(for: "\r\n103\r\n"), "Alt-b, Ctrl-W: \(t.screen)")
        t.type("6 * 7\u{1B}b\u{0B}8\r")  // Alt-b before 7, Ctrl-K deletes it
        #expect(await t.wait(for: "\r\n48\r\n"), "Ctrl-K: \(t.screen)")
        t.type("\u{12}6 *\r")  // Ctrl-R finds 6 * 8 and runs it
        #expect(await t.wait(for: "\r\n48\r\n", times: 2), "Ctrl-R: \(t.screen)")

        // Tab: a function, an option inside { }, a model inside model = "…".
        t.type("text_to_v\t{ prompt = 'a kite', dur\t4, model = \"veo3.1-fast-video-7\t\" }\r")
        #expect(await t.wait(for: "Video(id=sim-"), "the completed call ran: \(t.screen)")

        // A multi-line entry is recalled whole and runs again.
        t.type("function f()\rreturn 7\rend\r")
        t.type("f = nil\r")
        t.type("\u{1B}[A\u{1B}[A\r")  // ↑↑: the function
        t.type("f()\r")
        #expect(await t.wait(for: "\r\n7\r\n"), "multi-line recall: \(t.screen)")

        t.type("x = = 1\r")
        #expect(await t.wait(for: "error: repl:1: unexpected symbol near '='"), "syntax errors name the REPL input: \(t.screen)")
        t.type("\u{04}")
        #expect(await t.exitStatus() == 0)
        // The entry as Tab completed it (the screen has it in pieces, drawn in place).
        let history = try String(contentsOf: dir.appendingPathComponent(".reel/repl_history"), encoding: .utf8)
        #expect(history.contains("text_to_video{ prompt = 'a kite', duration = 4, model = \"veo3.1-fast-video-720p\" }\n"), "Tab: \(history)")
    }

    /// Wide characters (CJK, emoji) take two columns: the cursor lands where a person expects
    /// after moving over them, inserting and deleting among them, and across a wrapped row.
    /// tmux is the terminal here, so what is checked is what a person would see.
    @Test func wideCharactersDrawAtTheirWidth() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-repl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let screen = try await TmuxScreen(["repl", "--dry-run"], in: dir.path, columns: 30)
        #expect(await screen.wait { $0.rows.last(where: { !$0.isEmpty }) == "reel>" }, "no prompt: \(screen.last)")

        await screen.send("s = \"漢字🎬\"", "Left", "Left", "Left", "X")  // before 字
        let inserted = "reel> s = \"漢X字🎬\""
        #expect(await screen.wait { $0.rows.contains(inserted) && $0.cursor == (14, $0.rows.firstIndex(of: inserted)!) },
                "insert among wide characters: \(screen.last)")
        await screen.send("BSpace")
        let deleted = "reel> s = \"漢字🎬\""
        #expect(await screen.wait { $0.rows.contains(deleted) && $0.cursor == (13, $0.rows.firstIndex(of: deleted)!) },
                "delete among wide characters: \(screen.last)")
        await screen.send("Enter", "s", "Enter")
        #expect(await screen.wait { $0.rows.contains("漢字🎬") }, "the string as typed: \(screen.last)")

        // 29 columns fit on the first row; 十 needs two, so it starts the second.
        await screen.send("t = \"一二三四五六七八九十\"")
        let first = "reel> t = \"一二三四五六七八九"
        #expect(await screen.wait { $0.rows.contains(first) && $0.rows.contains("十\"") && $0.cursor.column == 3 }, "a wrapped row: \(screen.last)")
        await screen.send("Left", "Left", "BSpace")  // 九 goes, 十 comes back up to the first row
        let joined = "reel> t = \"一二三四五六七八十\""
        #expect(await screen.wait { $0.rows.contains(joined) && $0.cursor == (27, $0.rows.firstIndex(of: joined)!) },
                "deleting across the wrap: \(screen.last)")
        await screen.send("Enter", "t", "Enter")
        #expect(await screen.wait { $0.rows.contains("一二三四五六七八十") }, "the string as edited: \(screen.last)")
        await screen.close()
    }

    /// Ctrl-C during a generation detaches from it: it keeps running and stays journaled,
    /// tasks() lists it, and typing the same call again adopts it — one task, paid once.
    @Test func ctrlCDetachesAndTheSameCallAdopts() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-repl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Terminal(["repl", "--latency", "4"], in: dir.path)
        #expect(await t.wait(for: "reel> "), "no prompt: \(t.screen)")
        let call = "v = text_to_video{ prompt = 'a detached kite', duration = 4 }\r"
        t.type(call)
        // The live view, as in runs, while the entry waits.
        #expect(await t.wait(for: "[1] text_to_video repl:1 \"a detached kite\" sim-"), "the live view: \(t.screen)")
        // Ctrl-C while an entry runs: the terminal sends SIGINT (this pty is not the child's
        // controlling terminal, so the test sends it as the terminal would).
        kill(t.pid, SIGINT)
        #expect(await t.wait(for: "detached from repl:1 \"a detached kite\""), "Ctrl-C detaches: \(t.screen)")
        t.type("tasks()\r")
        #expect(await t.wait(for: "running, detached"), "tasks(): \(t.screen)")
        t.type(call)
        t.type("v.status\r")
        #expect(await t.wait(for: "\r\nsucceeded\r\n"), "the same call adopts the running task: \(t.screen)")
        t.type("\u{04}")
        #expect(await t.exitStatus() == 0)
        let rows = try await Shell.run("/usr/bin/env", ["sqlite3", dir.appendingPathComponent(".reel/journal.sqlite").path, "SELECT count(*), count(DISTINCT taskID) FROM task"])
        #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "1|1", "one generation, paid once: \(rows)")
    }

    /// The session's generations reserve against one budget: --max-seconds caps them,
    /// budget{} lowers that cap, budget() reads what is used, and a call past it is refused.
    @Test func aBudgetCapsTheWholeSession() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-repl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try Terminal(["repl", "--latency", "0.1", "--sample-videos", "--max-seconds", "12"], in: dir.path)
        #expect(await t.wait(for: "reel> "), "no prompt: \(t.screen)")
        t.type("budget{ seconds = 20 }\r")
        t.type("budget().seconds\r")
        #expect(await t.wait(for: "\r\n12\r\n"), "--max-seconds caps the session, budget{} cannot raise it: \(t.screen)")
        t.type("budget{ seconds = 10 }\r")
        t.type("a = text_to_video{ prompt = 'one', duration = 8 }\r")
        t.type("budget().used\r")
        #expect(await t.wait(for: "\r\n8\r\n"), "a generation reserves its seconds: \(t.screen)")
        t.type("b = text_to_video{ prompt = 'two', duration = 4 }\r")
        #expect(await t.wait(for: "not submitted: its 4 s of video would take this run past its budget of 10 s (8 s used"), "refused: \(t.screen)")
        t.type("\u{04}")
        #expect(await t.exitStatus() == 0)
    }
}


/// A command run in a tmux window of its own (its own server): tmux is the terminal emulator,
/// and its pane is what a person would see — the rows' text and where the cursor is.
final class TmuxScreen: @unchecked Sendable {
    struct Snapshot {
        var rows: [String]
        var cursor: (column: Int, row: Int)
    }
    private let socket = "reel-test-\(UUID().uuidString)"
    private(set) var last = Snapshot(rows: [], cursor: (0, 0))

    init(_ arguments: [String], in directory: String, columns: Int, rows: Int = 12) async throws {
        let command = ["/usr/bin/env", "-u", "REEL_BASE_URL", "-C", directory, "LANG=C.UTF-8", CLI.executable.path] + arguments
        // Not through a pipe: the tmux server it starts would hold the pipe open.
        try await run(["-f", "/dev/null", "new-session", "-d", "-x", String(columns), "-y", String(rows)]
                      + [command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")])
    }

    /// Keys in tmux's names ("Left", "Enter", "BSpace", "C-d") or literal text.
    func send(_ keys: String...) async {
        for key in keys {
            try? await run(["send-keys"] + (["Left", "Right", "Enter", "BSpace", "C-d"].contains(key) ? [key] : ["-l", key]))
        }
    }

    /// Reads the pane until `condition` holds, or 20 s.
    func wait(until condition: (Snapshot) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let text = try? await tmux(["capture-pane", "-p"]), let cursor = try? await tmux(["display-message", "-p", "#{cursor_x} #{cursor_y}"]) {
                let position = cursor.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
                last = Snapshot(rows: text.components(separatedBy: "\n").map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) },
                                cursor: (position.first ?? -1, position.last ?? -1))
                if condition(last) { return true }
            }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return false
    }

    /// Ctrl-D ends the command (a stop signal at the prompt only drops the line), then tmux.
    func close() async {
        await send("C-d")
        try? await run(["kill-server"])
    }

    /// Spawned and reaped here (Foundation's Process waits on the daemon tmux leaves behind).
    private func run(_ arguments: [String]) async throws {
        let argv = (["/usr/bin/tmux", "-L", socket] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in [Int32(0), 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/usr/bin/tmux", &actions, nil, argv, environ) == 0 else { throw CLIError(message: "tmux did not start") }
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 { try? await Task.sleep(nanoseconds: 10_000_000) }
    }

    private func tmux(_ arguments: [String]) async throws -> String {
        try await Shell.run("/usr/bin/tmux", ["-L", socket] + arguments)
    }
}
