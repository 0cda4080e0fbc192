import Foundation
import Testing
@testable import Workflow

/// `--sandbox`: what a hostile or careless script can no longer do.
@Suite struct SandboxTests {
    private func sandboxed(_ script: String) async throws -> [String] {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        try FileManager.default.createDirectory(at: h.directory.appendingPathComponent("out"), withIntermediateDirectories: true)
        return try await h.run(script, sandbox: true).logs
    }

    @Test func programsAndNativeCodeAreGone() async throws {
        let logs = try await sandboxed("""
            log(pcall(function() os.execute("true") end))
            log(pcall(function() io.popen("env") end))
            log(pcall(function() package.loadlib("libc.so.6", "puts") end))
            log(pcall(function() os.exit(1) end))
            log(debug == nil, package.loaded.debug == nil, package.cpath == "")
            """)
        #expect(logs == [
            "[log] false\tscript.lua:1: os.execute is not available in --sandbox",
            "[log] false\tscript.lua:2: io.popen is not available in --sandbox",
            "[log] false\tscript.lua:3: package.loadlib is not available in --sandbox",
            "[log] false\tscript.lua:4: os.exit is not available in --sandbox",
            "[log] true\ttrue\ttrue",
        ])
    }

    @Test func writesOnlyUnderTheOutputFolder() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let out = h.directory.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let outside = h.directory.appendingPathComponent("outside.txt").path
        // A symlink inside out/ that points outside must not be a way out.
        try FileManager.default.createSymbolicLink(atPath: out.appendingPathComponent("escape").path, withDestinationPath: h.directory.path)
        let logs = try await h.run("""
            local f = io.open("\(out.path)/notes.txt", "w"); f:write("ok"); f:close()
            log(io.open("\(outside)", "w"))
            log(io.open("\(out.path)/escape/x.txt", "w"))
            log(os.remove("\(outside)"))
            log(pcall(io.output, "\(outside)"))
            log(io.open("\(out.path)/notes.txt"):read("a"))
            """, sandbox: true).logs
        #expect(logs[0] == "[log] nil\t\(outside): --sandbox allows writing only under \(LuaStateHelper.resolved(out.path))")
        #expect(logs[1].hasPrefix("[log] nil\t") && logs[1].contains("--sandbox allows writing only under"))
        #expect(logs[2].contains("--sandbox allows writing only under"))
        #expect(logs[3].hasPrefix("[log] false"))
        #expect(logs[4] == "[log] ok")
        #expect(!FileManager.default.fileExists(atPath: outside))
    }

    @Test func theProcessesSecretsAreOutOfReach() async throws {
        let logs = try await sandboxed("""
            log(io.open("/proc/self/environ"))
            log(io.open("/proc/self/mem"))
            log(pcall(io.lines, "/proc/self/maps"))
            """)
        #expect(logs[0] == "[log] nil\t/proc/self/environ: /proc is out of bounds in --sandbox")
        #expect(logs[1].contains("/proc is out of bounds"))
        #expect(logs[2].contains("false") && logs[2].contains("/proc is out of bounds"))
    }

    @Test func saveIsHeldToTheOutputFolderToo() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        try FileManager.default.createDirectory(at: h.directory.appendingPathComponent("out"), withIntermediateDirectories: true)
        let logs = try await h.run("""
            local v = text_to_video 'x'
            log(pcall(v.save, v, "/tmp/elsewhere.mp4"))
            """, sandbox: true).logs
        #expect(logs.first?.contains("--sandbox allows saving only under") == true)
    }

    @Test func withoutTheSandboxScriptsKeepTheStandardLibrary() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let logs = try await h.run("log(type(os.execute), type(io.popen), type(debug))").logs
        #expect(logs == ["[log] function\tfunction\ttable"])
    }
}

enum LuaStateHelper {
    static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
