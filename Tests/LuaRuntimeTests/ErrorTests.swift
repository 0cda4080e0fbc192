import Testing
@testable import LuaRuntime

/// Errors carry the script's line, and a Swift error never longjmps over Swift frames.
@Suite struct ErrorTests {
    struct Boom: Error, CustomStringConvertible { var description: String { "boom from Swift" } }

    @Test func syntaxErrorNamesTheLine() async throws {
        let lua = try LuaState()
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("local x = 1\nlocal y = = 2\n", chunkName: "@broken.lua")
        }
        #expect(error?.message.hasPrefix("broken.lua:2:") == true)
    }

    @Test func runtimeErrorHasMessageAndTraceback() async throws {
        let lua = try LuaState()
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("local function f()\n  error('nope')\nend\nf()\n", chunkName: "@t.lua")
        }
        #expect(error?.message == "t.lua:2: nope")
        #expect(error?.traceback.contains("stack traceback") == true)
        #expect(error?.traceback.contains("t.lua:4") == true)
    }

    @Test func swiftErrorBecomesLuaErrorAtCallersLine() async throws {
        let lua = try LuaState()
        lua.register("explode") { _ in throw Boom() }
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("local a = 1\nexplode()\n", chunkName: "@s.lua")
        }
        #expect(error?.message == "s.lua:2: boom from Swift")
    }

    @Test func pcallCatchesSwiftErrorsAndTheStateStaysUsable() async throws {
        let lua = try LuaState()
        var calls = 0
        lua.register("explode") { _ in calls += 1; throw Boom() }
        // Many raises in a row: a longjmp over a Swift frame would corrupt or leak by now.
        let out = try await lua.run("""
            local n = 0
            for i = 1, 2000 do
              local ok, err = pcall(explode)
              if not ok and err:find('boom from Swift', 1, true) then n = n + 1 end
            end
            return n
            """, chunkName: "@p.lua")
        #expect(out == [.integer(2000)])
        #expect(calls == 2000)
    }

    @Test func asyncErrorIsRaisedInTheWaitingCoroutine() async throws {
        let lua = try LuaState()
        lua.register("fail_later") { _ in .wait { try await Task.sleep(nanoseconds: 1_000_000); throw Boom() } }
        let out = try await lua.run("""
            local ok, err = pcall(fail_later)
            return ok, err
            """, chunkName: "@w.lua")
        #expect(out == [false, "w.lua:1: boom from Swift"])
    }

    @Test func errorTablesSurviveAsValues() async throws {
        struct Coded: LuaErrorConvertible {
            func luaErrorValue(position: String?) -> LuaValue {
                .table(LuaTable(fields: ["code": "task_failed", "where": .string(position ?? "?")]))
            }
        }
        let lua = try LuaState()
        lua.register("fail") { _ in throw Coded() }
        let out = try await lua.run("local ok, e = pcall(fail)\nreturn e.code, e.where", chunkName: "@c.lua")
        #expect(out == ["task_failed", "c.lua:1"])
    }

    @Test func binaryChunksAreRefused() async throws {
        let lua = try LuaState()
        let out = try await lua.run("""
            local f, err = load(string.dump(function() return 1 end))
            return f == nil, err
            """, chunkName: "=b")
        #expect(out.first == true)
        #expect(out.last?.stringValue?.contains("binary") == true)
    }

    @Test func instructionLimitCannotBeSwallowedByPcall() async throws {
        let lua = try LuaState(limits: LuaLimits(instructions: 200_000))
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("while true do pcall(function() while true do end end) end", chunkName: "@loop.lua")
        }
        #expect(error?.stopReason == .instructionLimit)
        #expect(error?.message.contains("instruction limit") == true)
    }

    @Test func memoryLimitCannotBeSwallowedByPcall() async throws {
        let lua = try LuaState(limits: LuaLimits(memoryBytes: 8 << 20))
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("""
                local keep = {}
                while true do pcall(function() for i = 1, 1e9 do keep[#keep + 1] = ('x'):rep(1000) .. i end end) end
                """, chunkName: "@mem.lua")
        }
        #expect(error?.stopReason == .memoryLimit)
    }
}
