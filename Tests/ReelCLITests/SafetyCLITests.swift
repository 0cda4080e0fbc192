import Foundation
import Testing

/// The key is unreachable from Lua, and runaway scripts are stopped with a clear message.
@Suite struct SafetyCLITests {
    private func scratch(_ script: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-safety-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try script.write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Every place a script could look for the key, without --sandbox (the weakest mode).
    static let hunt = """
        local key = args.needle:reverse()  -- given reversed, so args itself holds no copy
        args.needle = nil
        local found = {}
        local function has(s) return type(s) == "string" and s:find(key, 1, true) ~= nil end
        if has(os.getenv("REEL_API_KEY")) then found[#found + 1] = "os.getenv" end
        local p = io.popen("env"); if has(p:read("a")) then found[#found + 1] = "env of a child process" end; p:close()
        local e = io.open("/proc/self/environ", "rb"); if e and has(e:read("a")) then found[#found + 1] = "/proc/self/environ" end
        local seen = {}
        local function scan(v, where)
          if has(v) then found[#found + 1] = where end
          if (type(v) ~= "table" and type(v) ~= "function") or seen[v] then return end
          seen[v] = true
          if type(v) == "table" then
            for k, x in pairs(v) do scan(k, where); scan(x, where .. "." .. tostring(k)) end
            local mt = getmetatable(v); if mt then scan(mt, where .. "<mt>") end
          else
            for i = 1, 255 do
              local name, up = debug.getupvalue(v, i)
              if not name then break end
              scan(up, where .. "^" .. name)
            end
          end
        end
        scan(_G, "_G")
        scan(debug.getregistry(), "registry")
        local v = text_to_video "probe"
        scan(v, "video"); scan(v:info(), "info")
        log("found: " .. (#found == 0 and "nothing" or table.concat(found, ", ")))
        """

    @Test func theKeyIsUnreachableFromLua() async throws {
        let key = "sk-hunted-\(UUID().uuidString)"
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "0.1", "--require-key", key])
        defer { server.stop() }
        let url = try await server.waitForURL()
        let dir = try scratch(Self.hunt)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "s.lua", "needle=\(String(key.reversed()))"], in: dir, environment: ["REEL_BASE_URL": url, "REEL_API_KEY": key])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[log] found: nothing"), "\(result.stderr)")
    }

    /// Bytes that are not UTF-8 were sent as U+FFFD, so `"bad \xff"` reused `"bad \xfe"`'s video;
    /// a NUL cut the journal's copy of the prompt. Both are refused before anything is sent, by
    /// run, check and the dry run alike, naming the field.
    @Test func textThatIsNotUTF8OrHoldsANulIsRefusedNamingTheField() async throws {
        let dir = try scratch(#"""
            for _, options in ipairs{ "bad \xff", { prompt = "fine", negative_prompt = "bad \xfe" },
                                      { prompt = "cut \xc3(" }, "before\0after" } do
              local ok, e = pcall(text_to_video, options)
              log(("%s %s: %s"):format(tostring(ok), e.code, e.message))
            end
            """#)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua"], in: dir)
        let said = run.stdout + run.stderr
        print("invalid UTF-8 and NUL: \(said.split(separator: "\n").filter { $0.contains("invalid_request") }.count) of 4 refused")
        #expect(said.contains("false invalid_request: text_to_video: 'prompt' is not valid UTF-8 (byte 0xFF at byte 5)"), "\(said)")
        #expect(said.contains("false invalid_request: text_to_video: 'negative_prompt' is not valid UTF-8 (byte 0xFE at byte 5)"), "\(said)")
        #expect(said.contains("false invalid_request: text_to_video: 'prompt' is not valid UTF-8 (byte 0xC3 at byte 5)"), "\(said)")
        #expect(said.contains("false invalid_request: text_to_video: 'prompt' contains a NUL character (\\0, character 7)"), "\(said)")
        let saved = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)) ?? []
        #expect(saved.filter { $0.hasSuffix(".mp4") }.isEmpty)

        // A script argument arrives from the command line, not from Lua: its bytes are checked there.
        try "text_to_video(args.subject)\n".write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        let argument = try await Shell.run("/bin/sh", ["-c", "cd '\(dir.path)' && '\(CLI.executable.path)' run --simulate s.lua \"subject=$(printf 'bad \\376')\" 2>&1; echo \"exit $?\""])
        #expect(argument.contains("the script argument 'subject=bad \u{FFFD}' is not valid UTF-8 (byte 0xFE at byte 13)") && !argument.contains("exit 0"), "\(argument)")

        try "text_to_video \"bad \\xff\"\n".write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        for command in [["check", "s.lua"], ["run", "--dry-run", "s.lua"]] {
            let result = try await CLI.run(command, in: dir)
            #expect(result.status != 0, "\(command)")
            #expect((result.stdout + result.stderr).contains("'prompt' is not valid UTF-8 (byte 0xFF at byte 5)"), "\(command): \(result.stdout + result.stderr)")
        }
    }

    @Test func aScriptThatLoopsForeverIsStopped() async throws {
        let dir = try scratch("local n = 0\nwhile true do pcall(function() n = n + 1 end) end\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "--dry-run", "--max-instructions", "2000000", "s.lua"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("instruction limit reached"))
        #expect(result.stderr.contains("raise --max-instructions"))
    }

    @Test func aScriptThatAllocatesWithoutBoundIsStopped() async throws {
        let dir = try scratch("local t = {}\nwhile true do pcall(function() t[#t + 1] = ('x'):rep(1 << 16) .. #t end) end\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "--dry-run", "--max-memory", "32", "s.lua"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("memory limit reached"))
    }

    @Test func taskShowsOneTaskAndSavesItsVideo() async throws {
        let server = try BackgroundReel(["simulator", "--port", "0", "--latency", "0.1"])
        defer { server.stop() }
        let url = try await server.waitForURL()
        let dir = try scratch("text_to_video 'task probe'\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let environment = ["REEL_BASE_URL": url, "REEL_API_KEY": "sk-task"]
        #expect(try await CLI.run(["run", "s.lua"], in: dir, environment: environment).status == 0)
        let history = CLI.parseJSONArray(try await CLI.run(["history", "--json"], in: dir).stdout)
        let id = try #require(((history.first?["tasks"] as? [[String: Any]])?.first?["task_id"]) as? String)

        let shown = try await CLI.run(["task", id], in: dir, environment: environment)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("status") && shown.stdout.contains("succeeded") && shown.stdout.contains("task probe"))
        // Without REEL_BASE_URL, the journal knows which gateway ran it.
        let saved = try await CLI.run(["task", id, "--save", "kept.mp4", "--json"], in: dir, environment: ["REEL_API_KEY": "sk-task"])
        #expect(saved.status == 0, "\(saved.stderr)")
        #expect(saved.stdout.contains("\"saved\": \"kept.mp4\""))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("kept.mp4").path))

        let missing = try await CLI.run(["task", "no-such-task"], in: dir, environment: environment)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("404"))
    }

    @Test func historyReadsWhileARunWrites() async throws {
        let dir = try scratch("map({1, 2, 3}, function(i) return text_to_video('slow ' .. i) end)\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundReel(["run", "s.lua", "--latency", "2"], in: dir)
        defer { run.stop() }
        _ = try await run.waitForLine(containing: "submitted", in: .standardError)
        let during = try await CLI.run(["history"], in: dir)
        #expect(during.status == 0, "\(during.stderr)")
        #expect(during.stdout.contains("s.lua  running"))
        #expect(await run.waitForExit(timeout: 120) == 0, "\(run.standardError.suffix(800))")
        #expect(try await CLI.run(["history"], in: dir).stdout.contains("s.lua  done"))
    }

    @Test func historyListsRunsAndTasks() async throws {
        let dir = try scratch("text_to_video 'history probe'\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try await CLI.run(["run", "s.lua", "--latency", "0.1"], in: dir).status == 0)
        let text = try await CLI.run(["history"], in: dir)
        #expect(text.status == 0)
        #expect(text.stdout.contains("s.lua") && text.stdout.contains("downloaded") && text.stdout.contains("\"history probe\""))
        let json = try await CLI.run(["history", "--json"], in: dir)
        #expect(json.stdout.contains("\"sha256\": \""))
    }
}
