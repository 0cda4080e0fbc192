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

        register("sleep") { call in
            let seconds: Double
            switch try call.argument(1) {
            case .integer(let i): seconds = Double(i)
            case .number(let d): seconds = d
            case let other: throw LuaArgumentError("sleep: expected seconds as a number (got \(other.typeName))")
            }
            guard seconds >= 0, seconds.isFinite else { throw LuaArgumentError("sleep: seconds must be 0 or more (got \(seconds))") }
            return .wait {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                return []
            }
        }

        // map(…, { concurrency = n }) tells the host its limit and the script line, so a library
        // can say when a run-wide cap is lower.
        pushHostFunction(named: "map", body: .host({ [unowned self] call in
            if case .integer(let limit) = try call.argument(1), case .string(let position) = try call.argument(2) {
                mapConcurrencyObserver?(Int(limit), position)
            }
            return .none
        }))
        let mapNoteIndex = lua_gettop(L)
        reel_push_wait_marker(L)
        let markerIndex = lua_gettop(L)
        reel_push_stop_query(L)
        let stopQueryIndex = lua_gettop(L)
        defer { reel_pop(L, 5) }
        try runSetupChunk(LuaState.preludeSource, with: [markerIndex, spawnIndex, waitIndex, stopQueryIndex, mapNoteIndex])
    }

    /// `spawn(fn, ...)`: a new coroutine the scheduler starts soon; returns its handle.
    static func spawnPrimitive(_ state: LuaState, _ L: OpaquePointer) throws -> Int32 {
        let count = lua_gettop(L)
        guard count >= 1, lua_type(L, 1) == LUA_TFUNCTION else {
            let got = count >= 1 ? String(cString: lua_typename(L, lua_type(L, 1))) : "nothing"
            throw LuaArgumentError("spawn: expected a function (got \(got))")
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
            throw LuaArgumentError("wait: expected a task handle from spawn (call it as handle:wait())")
        }
        let target = handle.coroutine
        if target.outcome != nil {
            let count = state.pushOutcome(of: target, on: L, withStatus: false)
            if case .failed = target.outcome { return REEL_HOST_RAISE }
            return count
        }
        guard let current = state.scheduler.current, lua_isyieldable(L) != 0 else {
            throw LuaArgumentError("wait cannot wait here: call it from ordinary script code, not from a metamethod, an iterator or a sort comparator")
        }
        guard current !== target else { throw LuaArgumentError("wait: a task cannot wait for itself") }
        target.waiters.append(current)
        current.blockedOnCoroutine = true
        return REEL_HOST_YIELD
    }

    /// `Lua/prelude.lua`, compiled into the binary (so an installed copy needs no files beside it).
    static let preludeSource = String(decoding: PackageResources.prelude_lua, as: UTF8.self)
}
