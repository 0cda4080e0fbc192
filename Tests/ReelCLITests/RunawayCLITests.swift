import Foundation
import Testing

/// Scripts that never yield to reel: stuck in Lua's C pattern matcher, spinning through the
/// estimate's dry pass, or generating while a module loads. Each test waits on a condition
/// with a generous bound and checks the error, never how fast it came.
@Suite struct RunawayCLITests {
    /// After its first call the script spins for ever: the estimate's pass must be cut at its
    /// limit and the run started (it then submits, and SIGTERM stops the spin). Before, the
    /// pass's time limit was a sleeping task on the executor the spin held, so it never woke:
    /// nothing was ever submitted.
    @Test func anEstimatePassThatNeverEndsIsCutAndTheRunStarts() async throws {
        let (server, url) = try await HostileConditionsTests.simulator()
        defer { server.stop() }
        let dir = try HostileConditionsTests.scratch("text_to_video{ prompt = 'then it spins', duration = 4 }\nwhile true do end\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundReel(["run", "s.lua"], in: dir, environment: HostileConditionsTests.gateway(url))
        defer { run.stop() }
        try await HostileConditionsTests.waitForSubmissions(1, at: url, from: run, timeout: 90)
        run.send(SIGTERM)
        let code = await run.waitForExit(timeout: 60)
        #expect(code == 130, "\(run.standardError)")
        #expect(!run.standardError.contains("the script plans"), "\(run.standardError)")
    }

    static let catastrophic = #"string.find(string.rep("a", 3e4), ".-.-.-.-.-.-.-b")"#

    /// Lua's matcher backtracks in C, where the count hook never fires: this call ran for
    /// minutes under --max-instructions 1000000. Its steps now count, and the script's own
    /// pcall does not swallow the stop.
    @Test func aCatastrophicPatternIsStoppedByTheInstructionLimit() async throws {
        let dir = try HostileConditionsTests.scratch("local ok = pcall(function() return \(Self.catastrophic) end)\nprint('swallowed', ok)\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "--dry-run", "--max-instructions", "1000000", "s.lua"], in: dir, timeout: 120)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("instruction limit reached"), "\(result.stderr)")
        #expect(!result.stdout.contains("swallowed"), "\(result.stdout)")
    }

    /// The first SIGTERM only said "interrupted" while the matcher ran on; now it stops it.
    @Test func aScriptStuckInAPatternStopsOnSIGTERM() async throws {
        let dir = try HostileConditionsTests.scratch("io.open('started', 'w'):close()\n\(Self.catastrophic)\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundReel(["run", "s.lua"], in: dir)
        defer { run.stop() }
        try await run.waitUntilCatching(SIGTERM)
        let started = dir.appendingPathComponent("started").path
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: started) && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        #expect(FileManager.default.fileExists(atPath: started), "\(run.standardError)")
        run.send(SIGTERM)
        let code = await run.waitForExit(timeout: 60)
        #expect(code == 130, "\(run.standardError)")
    }

    /// string.rep of an empty piece copied nothing 10^15 times, and table.move an empty range
    /// of 10^15, in C; a huge rep or table.concat meets --max-memory. Each stops with the
    /// limit's own message.
    @Test(arguments: [
        ("string.rep('', 1e15)", "--max-instructions", "1000000", "instruction limit reached"),
        ("string.rep('', 1e15, '')", "--max-instructions", "1000000", "instruction limit reached"),
        ("local s = string.rep('ab', 5e8, ',')", "--max-memory", "64", "raise --max-memory"),
        ("table.move({}, 1, 1e15, 1, {})", "--max-instructions", "1000000", "instruction limit reached"),
        ("local s = table.concat(setmetatable({}, { __index = rawlen }), '', 1, 1e12)", "--max-instructions", "1000000", "instruction limit reached"),
        ("local piece = ('x'):rep(1 << 20)\nlocal t = {}\nfor i = 1, 128 do t[i] = piece end\nlocal s = table.concat(t)", "--max-memory", "64", "raise --max-memory"),
    ])
    func longLoopsInsideLuasLibraryStopAtTheirLimits(script: String, flag: String, value: String, message: String) async throws {
        let dir = try HostileConditionsTests.scratch(script + "\nwhile true do end\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "--dry-run", flag, value, "s.lua"], in: dir, timeout: 120)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    /// A module that generates while it loads: Lua's require ran its chunk from C, where the
    /// wait could not yield, and the script got a message about metamethods.
    @Test func aModuleMayGenerateWhileItLoads() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local opening = require "opening"
            log("loaded " .. opening.video.status)
            log(require("opening") == opening and "loaded once" or "loaded twice")
            local ok, err = pcall(require, "nowhere")
            log(ok and "found nowhere" or err)
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "local v = text_to_video{ prompt = 'made while the module loads', duration = 4 }\nreturn { video = v }\n"
            .write(to: dir.appendingPathComponent("opening.lua"), atomically: true, encoding: .utf8)
        let result = try await CLI.run(["run", "s.lua"], in: dir, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[log] loaded completed") || result.stderr.contains("[log] loaded succeeded"), "\(result.stderr)")
        #expect(result.stderr.contains("[log] loaded once"), "\(result.stderr)")
        #expect(result.stderr.contains("module 'nowhere' not found:"), "\(result.stderr)")
    }
}
