import Foundation
import Testing
@testable import LuaRuntime

/// Host waits park only their own coroutine; parallel, map and spawn run work side by side.
@Suite struct SchedulerTests {
    private func elapsed(_ body: () async throws -> Void) async rethrows -> Double {
        let start = Date()
        try await body()
        return Date().timeIntervalSince(start)
    }

    @Test func threeSleepsInParallelRunAtTheSameTime() async throws {
        // Proven by overlap, not by a stopwatch: all three sleeps are under way at once.
        let lua = try LuaState()
        let intervals = Intervals()
        lua.register("timed_sleep") { call in
            guard case .number(let seconds) = try call.argument(1) else { throw LuaArgumentError("seconds") }
            return .wait {
                let start = Date()
                try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                await intervals.add(start, Date())
                return []
            }
        }
        _ = try await lua.run("""
            parallel(function() timed_sleep(1.0) end, function() timed_sleep(1.0) end, function() timed_sleep(1.0) end)
            """, chunkName: "@p.lua")
        let all = await intervals.all
        #expect(all.count == 3)
        let latestStart = all.map(\.0).max()!
        let earliestEnd = all.map(\.1).min()!
        #expect(latestStart < earliestEnd, "the three sleeps did not overlap: they ran one after another")
    }

    @Test func parallelReturnsEachFunctionsResultInOrder() async throws {
        let lua = try LuaState()
        let out = try await lua.run("""
            return parallel(function() sleep(0.03) return 'a' end, function() return 'b' end, function() sleep(0.01) return 'c' end)
            """, chunkName: "@p.lua")
        #expect(out == ["a", "b", "c"])
    }

    @Test func asyncHostFunctionReturnsValuesToItsCaller() async throws {
        let lua = try LuaState()
        lua.register("fetch") { call in
            let n = try call.argument(1)
            return .wait { try await Task.sleep(nanoseconds: 5_000_000); return [n, "done"] }
        }
        let out = try await lua.run("local a, b = fetch(7)\nreturn a, b", chunkName: "@f.lua")
        #expect(out == [7, "done"])
    }

    @Test func mapHonoursConcurrency() async throws {
        let lua = try LuaState()
        let gauge = Gauge()
        lua.register("work") { call in
            let i = try call.argument(1)
            return .wait {
                await gauge.enter()
                try await Task.sleep(nanoseconds: 20_000_000)
                await gauge.leave()
                return [i]
            }
        }
        let out = try await lua.run("""
            local r = map({1,2,3,4,5,6,7,8,9,10}, function(x) return work(x * 10) end, { concurrency = 3 })
            return #r, r[1], r[10]
            """, chunkName: "@m.lua")
        #expect(out == [10, 10, 100])
        #expect(await gauge.peak == 3)
    }

    @Test func mapRaisesTheFirstFailureAfterAllFinish() async throws {
        let lua = try LuaState()
        let out = try await lua.run("""
            local done = 0
            local ok, err = pcall(map, {1, 2, 3}, function(x)
              sleep(0.01 * x); done = done + 1
              if x >= 2 then error('item ' .. x .. ' failed', 0) end
            end)
            return ok, err, done
            """, chunkName: "@m.lua")
        #expect(out == [false, "item 2 failed", 3])
    }

    /// Map's option names are checked by the library's declaration (WorkflowTests); the bare
    /// runtime still refuses options that are not a table, with reel's error table.
    @Test func mapRejectsOptionsThatAreNotATable() async throws {
        let lua = try LuaState()
        let out = try await lua.run("""
            local ok, err = pcall(map, {1}, function() end, 2)
            return ok, err.code, err.message, tostring(err)
            """, chunkName: "@m.lua")
        #expect(out == [false, "invalid_request", "map: argument 3 must be an options table (got number)",
                        "m.lua:1: map: argument 3 must be an options table (got number)"])
    }

    @Test func spawnAndWait() async throws {
        let lua = try LuaState()
        let out = try await lua.run("""
            local h = spawn(function(a, b) sleep(0.01) return a + b, 'x' end, 2, 3)
            local s, x = h:wait()
            local s2 = h:wait()
            return s, x, s2
            """, chunkName: "@s.lua")
        #expect(out == [5, "x", 5])
    }

    @Test func spawnErrorPropagatesThroughWait() async throws {
        let lua = try LuaState()
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("""
                local h = spawn(function() sleep(0.01) error('inner failure') end)
                h:wait()
                """, chunkName: "@s.lua")
        }
        #expect(error?.message == "s.lua:1: inner failure")
    }

    @Test func unwaitedSpawnFailureIsStillReported() async throws {
        let lua = try LuaState()
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("spawn(function() sleep(0.01) error('lost?') end)", chunkName: "@s.lua")
        }
        #expect(error?.message == "s.lua:1: lost?")
    }

    @Test func scriptWaitsForSpawnedWorkBeforeEnding() async throws {
        let lua = try LuaState()
        lua.register("mark") { _ in .none }
        let seconds = try await elapsed {
            _ = try await lua.run("spawn(function() sleep(0.3) end)", chunkName: "@s.lua")
        }
        #expect(seconds >= 0.29)
    }

    @Test func userCoroutineWrapDoesNotSwallowHostWait() async throws {
        let lua = try LuaState()
        lua.register("fetch") { call in
            let n = try call.argument(1)
            return .wait { try await Task.sleep(nanoseconds: 5_000_000); return [n] }
        }
        let out = try await lua.run("""
            local gen = coroutine.wrap(function()
              for i = 1, 3 do coroutine.yield(fetch(i) * 10) end
            end)
            local co = coroutine.create(function() local v = fetch(99); coroutine.yield(v); return 'end' end)
            local _, v = coroutine.resume(co)
            local _, last = coroutine.resume(co)
            return gen(), gen(), gen(), v, last
            """, chunkName: "@c.lua")
        #expect(out == [10, 20, 30, 99, "end"])
    }

    @Test func hostWaitInsideNonYieldableCallIsAClearError() async throws {
        let lua = try LuaState()
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("table.sort({3, 1, 2}, function(a, b) sleep(0) return a < b end)", chunkName: "@n.lua")
        }
        #expect(error?.message.contains("sleep cannot wait here") == true)
    }

    @Test func waitingOnYourselfIsAnError() async throws {
        let lua = try LuaState()
        let error = await #expect(throws: LuaScriptError.self) {
            try await lua.run("local h; h = spawn(function() sleep(0) h:wait() end); h:wait()", chunkName: "@d.lua")
        }
        #expect(error?.message.contains("cannot wait for itself") == true)
    }

    @Test func requireFindsModulesBesideTheScript() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reel-req-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "return { answer = 42 }".write(to: dir.appendingPathComponent("helper.lua"), atomically: true, encoding: .utf8)
        let lua = try LuaState()
        lua.addModuleDirectory(dir.path)
        let out = try await lua.run("return require('helper').answer", chunkName: "@main.lua")
        #expect(out == [42])
    }
}

actor Intervals {
    private(set) var all: [(Date, Date)] = []
    func add(_ start: Date, _ end: Date) { all.append((start, end)) }
}

actor Gauge {
    private(set) var current = 0
    private(set) var peak = 0
    func enter() { current += 1; peak = max(peak, current) }
    func leave() { current -= 1 }
}
