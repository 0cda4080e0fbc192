import CLua
import CLuaShim

extension LuaState {
    /// Installs the runtime's own globals: `spawn`, `parallel`, `map`, `sleep`, coroutine
    /// wrappers that pass host waits through, and text-only loading.
    func installPrelude() throws(LuaScriptError) {
        pushHostFunction(named: "spawn", body: .raw(LuaState.spawnPrimitive))
        let spawnIndex = lua_gettop(L)
        pushHostFunction(named: "wait", body: .raw(LuaState.waitPrimitive))
        let waitIndex = lua_gettop(L)
        reel_push_object_metatable(L, LuaState.spawnHandleType)
        lua_createtable(L, 0, 1)
        lua_pushvalue(L, waitIndex)
        lua_setfield(L, -2, "wait")
        lua_setfield(L, -2, "__index")
        reel_pop(L, 1)
        registerTableType(LuaErrorTable.typeName, methods: [:], tostring: LuaErrorTable.tostring)

        register("sleep") { call in
            let seconds: Double
            switch try call.argument(1) {
            case .integer(let i): seconds = Double(i)
            case .number(let d): seconds = d
            case let other: throw LuaErrorTable("sleep: 'seconds' must be a number (got \(other.typeName))")
            }
            guard seconds >= 0, seconds.isFinite else { throw LuaErrorTable("sleep: 'seconds' must be 0 or more (got \(seconds))") }
            return .wait {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                return []
            }
        }

        // check_options(function, opts, argument): map's options, checked by `optionChecker`.
        pushHostFunction(named: "check_options", body: .host({ [unowned self] call in
            let function = try call.argument(1).stringValue ?? "?"
            let options = try call.argument(2)
            let argument = Int(try call.argument(3).numberValue ?? 0)
            if let optionChecker { return .value(try optionChecker(function, options, argument, call.position)) }
            switch options {
            case .nil: return .value(.table(LuaTable()))
            case .table: return .value(options)
            default: throw LuaErrorTable.notATable(function: function, argument: argument, got: options)
            }
        }))
        let checkOptionsIndex = lua_gettop(L)
        // usage_error(message): the prelude's misuse errors, as error tables at the script's line.
        pushHostFunction(named: "usage_error", body: .host({ call in
            throw LuaErrorTable(try call.argument(1).stringValue ?? "usage error")
        }))
        let usageErrorIndex = lua_gettop(L)
        reel_push_wait_marker(L)
        let markerIndex = lua_gettop(L)
        reel_push_stop_query(L)
        let stopQueryIndex = lua_gettop(L)
        defer { reel_pop(L, 6) }
        try runSetupChunk(LuaState.preludeSource, with: [markerIndex, spawnIndex, waitIndex, stopQueryIndex, checkOptionsIndex, usageErrorIndex])
    }

    /// `spawn(fn, ...)`: a new coroutine the scheduler starts soon; returns its handle.
    static func spawnPrimitive(_ state: LuaState, _ L: OpaquePointer) throws -> Int32 {
        let count = lua_gettop(L)
        guard count >= 1, lua_type(L, 1) == LUA_TFUNCTION else {
            let got = count >= 1 ? String(cString: lua_typename(L, lua_type(L, 1))) : "nothing"
            throw LuaErrorTable("spawn: 'fn' must be a function (got \(got))")
        }
        let coroutine = state.makeCoroutine(movingFunctionAndArguments: count - 1, from: L, isMain: false)
        state.scheduler.ready.append((coroutine, .start(argumentCount: count - 1)))
        state.push(.userdata(LuaUserdata(SpawnHandle(coroutine), metatable: spawnHandleType)), on: L)
        return 1
    }

    /// `handle:wait()`: the coroutine's results, or its error raised here.
    static func waitPrimitive(_ state: LuaState, _ L: OpaquePointer) throws -> Int32 {
        guard let object = reel_to_object(L, 1),
            let handle = Unmanaged<AnyObject>.fromOpaque(object).takeUnretainedValue() as? SpawnHandle
        else {
            throw LuaErrorTable("wait: expected a task handle from spawn (call it as handle:wait())")
        }
        let target = handle.coroutine
        if target.outcome != nil {
            let count = state.pushOutcome(of: target, on: L, withStatus: false)
            if case .failed = target.outcome { return REEL_HOST_RAISE }
            return count
        }
        guard let current = state.scheduler.current, lua_isyieldable(L) != 0 else {
            throw LuaErrorTable("wait cannot wait here: call it from ordinary script code, not from a metamethod, an iterator or a sort comparator")
        }
        guard current !== target else { throw LuaErrorTable("wait: a task cannot wait for itself") }
        target.waiters.append(current)
        current.blockedOnCoroutine = true
        return REEL_HOST_YIELD
    }

    /// `Lua/prelude.lua`, compiled into the binary (so an installed copy needs no files beside it).
    static let preludeSource = String(decoding: PackageResources.prelude_lua, as: UTF8.self)
}
