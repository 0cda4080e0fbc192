import Testing
@testable import LuaRuntime

/// Values cross the bridge and come back unchanged.
@Suite struct ValueTests {
    private func roundTrip(_ value: LuaValue) async throws -> LuaValue {
        let lua = try LuaState()
        lua.register("echo") { call in .value(try call.argument(1)) }
        lua.setGlobal("input", value)
        return try await lua.run("return echo(input)", chunkName: "=test").first ?? .nil
    }

    @Test func scalarsKeepTheirKind() async throws {
        #expect(try await roundTrip(.nil) == .nil)
        #expect(try await roundTrip(true) == true)
        #expect(try await roundTrip(.integer(42)) == .integer(42))
        #expect(try await roundTrip(.number(42.0)) == .number(42.0))
        #expect(try await roundTrip(.integer(.min)) == .integer(.min))
        #expect(try await roundTrip(.number(0.5)) == .number(0.5))
    }

    @Test func stringsKeepEmbeddedZerosAndUnicode() async throws {
        #expect(try await roundTrip("a\0b\0") == "a\0b\0")
        #expect(try await roundTrip("bateau en papier ⛵") == "bateau en papier ⛵")
        #expect(try await roundTrip("") == "")
    }

    @Test func nestedTablesRoundTrip() async throws {
        let table = LuaValue.table(LuaTable(fields: [
            "list": .table(LuaTable(array: [1, 2.5, "three"])),
            "map": .table(LuaTable(fields: ["deep": .table(LuaTable(fields: ["x": true]))])),
        ]))
        #expect(try await roundTrip(table) == table)
    }

    @Test func integerAndFloatStayApartInLua() async throws {
        let lua = try LuaState()
        let out = try await lua.run("return math.type(...), math.type(select(2, ...))", chunkName: "=t", arguments: [.integer(3), .number(3)])
        #expect(out == ["integer", "float"])
    }

    @Test func aTableThatContainsItselfIsAnError() async throws {
        let lua = try LuaState()
        lua.register("take") { call in _ = try call.argument(1); return .none }
        await #expect(throws: LuaScriptError.self) {
            try await lua.run("local t = {}; t.self = t; take(t)", chunkName: "@cycle.lua")
        }
    }

    @Test func swiftObjectsAreReleasedWhenLuaCollectsThem() async throws {
        weak var weakProbe: Probe?
        let lua = try LuaState()
        do {
            let probe = Probe()
            weakProbe = probe
            lua.setGlobal("p", .userdata(LuaUserdata(probe, metatable: "test.Probe")))
        }
        #expect(weakProbe != nil, "Lua's userdata keeps the object alive")
        let kind = try await lua.run("return type(p)", chunkName: "=gc")
        #expect(kind == ["userdata"])
        _ = try await lua.run("p = nil; collectgarbage(); collectgarbage()", chunkName: "=gc")
        #expect(weakProbe == nil, "__gc released it")
    }

    @Test func userdataComesBackAsTheSameObject() async throws {
        let probe = Probe()
        let lua = try LuaState()
        lua.setGlobal("p", .userdata(LuaUserdata(probe, metatable: "test.Probe")))
        guard case .userdata(let box) = try lua.global("p") else { Issue.record("not userdata"); return }
        let same = ObjectIdentifier(box.object) == ObjectIdentifier(probe)
        #expect(same)
        #expect(box.metatable == "test.Probe")
    }
}

final class Probe {}
