import CLua
import CLuaShim

// Copying values between Swift and a Lua stack. Only operations that cannot raise are used
// on values the script controls: raw gets and sets, never a metamethod.

extension LuaState {
    private static let maxDepth = 64

    /// Pushes a copy of `value` onto `L`'s stack.
    func push(_ value: LuaValue, on L: OpaquePointer) {
        switch value {
        case .nil, .opaque:
            lua_pushnil(L)
        case .boolean(let b):
            lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i):
            lua_pushinteger(L, lua_Integer(i))
        case .number(let d):
            lua_pushnumber(L, d)
        case .string(var s):
            s.withUTF8 { buf in
                buf.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
            }
        case .table(let table):
            lua_checkstack(L, 4)
            let arrayCount = table.entries.keys.count { if case .integer = $0 { true } else { false } }
            lua_createtable(L, Int32(arrayCount), Int32(table.entries.count - arrayCount))
            for (key, item) in table.entries {
                if key.isNil { continue }
                if case .number(let d) = key, d.isNaN { continue }
                push(key, on: L)
                push(item, on: L)
                lua_rawset(L, -3)
            }
            if let name = table.metatable {
                reel_push_object_metatable(L, name)
                lua_setmetatable(L, -2)
            }
        case .userdata(let box):
            let retained = Unmanaged.passRetained(box.object).toOpaque()
            reel_push_object(L, retained, box.metatable)
        }
    }

    /// Copies the value at `index` of `L`'s stack into Swift.
    func value(at index: Int32, on L: OpaquePointer) throws(LuaConversionError) -> LuaValue {
        var visiting: Set<UnsafeRawPointer> = []
        return try value(at: lua_absindex(L, index), on: L, depth: 0, visiting: &visiting)
    }

    private func value(
        at index: Int32, on L: OpaquePointer, depth: Int, visiting: inout Set<UnsafeRawPointer>
    ) throws(LuaConversionError) -> LuaValue {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE:
            return .nil
        case LUA_TBOOLEAN:
            return .boolean(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .integer(Int64(reel_tointeger(L, index, nil))) }
            return .number(reel_tonumber(L, index, nil))
        case LUA_TSTRING:
            var length = 0
            let bytes = reel_tolstring(L, index, &length)!
            return .string(LuaText.decode(UnsafeRawBufferPointer(start: bytes, count: length)))
        case LUA_TTABLE:
            return .table(try table(at: index, on: L, depth: depth, visiting: &visiting))
        case LUA_TUSERDATA:
            if let object = reel_to_object(L, index) {
                let name = metatableName(at: index, on: L) ?? "userdata"
                return .userdata(LuaUserdata(Unmanaged<AnyObject>.fromOpaque(object).takeUnretainedValue(), metatable: name))
            }
            return .opaque(typeName: "userdata")
        default:
            return .opaque(typeName: String(cString: lua_typename(L, lua_type(L, index))))
        }
    }

    private func table(
        at index: Int32, on L: OpaquePointer, depth: Int, visiting: inout Set<UnsafeRawPointer>
    ) throws(LuaConversionError) -> LuaTable {
        guard depth < Self.maxDepth else { throw LuaConversionError(reason: "is nested more than \(Self.maxDepth) tables deep") }
        let identity = lua_topointer(L, index)!
        guard visiting.insert(identity).inserted else { throw LuaConversionError(reason: "contains a table that contains itself") }
        defer { visiting.remove(identity) }
        guard lua_checkstack(L, 4) != 0 else { throw LuaConversionError(reason: "is too deep for the Lua stack") }
        var entries: [LuaValue: LuaValue] = [:]
        lua_pushnil(L)
        // lua_next is safe here: every key it is given came from lua_next on the same table.
        while lua_next(L, index) != 0 {
            let key: LuaValue
            let item: LuaValue
            do {
                key = try value(at: lua_absindex(L, -2), on: L, depth: depth + 1, visiting: &visiting)
                item = try value(at: lua_absindex(L, -1), on: L, depth: depth + 1, visiting: &visiting)
            } catch {
                reel_pop(L, 2)
                throw error
            }
            entries[key] = item
            reel_pop(L, 1)
        }
        return LuaTable(entries, metatable: metatableName(at: index, on: L))
    }

    /// The `__name` of the value's metatable (set by `luaL_newmetatable`), read raw.
    private func metatableName(at index: Int32, on L: OpaquePointer) -> String? {
        guard lua_getmetatable(L, index) != 0 else { return nil }
        defer { reel_pop(L, 2) }
        lua_pushstring(L, "__name")
        lua_rawget(L, -2)
        return string(at: -1, on: L)
    }

    func string(at index: Int32, on L: OpaquePointer) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        let bytes = reel_tolstring(L, index, &length)!
        return LuaText.decode(UnsafeRawBufferPointer(start: bytes, count: length))
    }
}
