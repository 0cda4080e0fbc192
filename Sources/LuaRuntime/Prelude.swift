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

        reel_push_wait_marker(L)
        let markerIndex = lua_gettop(L)
        reel_push_stop_query(L)
        let stopQueryIndex = lua_gettop(L)
        defer { reel_pop(L, 4) }
        try runSetupChunk(LuaState.preludeSource, with: [markerIndex, spawnIndex, waitIndex, stopQueryIndex])
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

    static let preludeSource = #"""
    local marker, spawn_raw, wait_raw, stop_requested = ...
    local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
    local pack, unpack, select, type, error, pcall = table.pack, table.unpack, select, type, error, pcall

    -- Once reel stops a script (a limit, Ctrl-C, SIGTERM), message handlers are skipped:
    -- Lua runs them with hooks off, so a looping handler could not be stopped.
    local raw_xpcall = xpcall
    function xpcall(f, handler, ...)
      if type(handler) ~= "function" then return raw_xpcall(f, handler, ...) end
      return raw_xpcall(f, function(e)
        if stop_requested() then return e end
        return handler(e)
      end, ...)
    end

    -- A host wait inside a user's own coroutine yields reel's marker. Pass it up to the
    -- scheduler and hand the answer back down, so the user's coroutine never sees it.
    local function forward(co, ok, ...)
      if ok and select("#", ...) == 1 and (...) == marker then
        return forward(co, co_resume(co, co_yield(marker)))
      end
      return ok, ...
    end
    function coroutine.resume(co, ...)
      return forward(co, co_resume(co, ...))
    end
    function coroutine.wrap(f)
      local co = co_create(f)
      local function finish(ok, ...)
        if not ok then error((...), 0) end
        return ...
      end
      return function(...) return finish(coroutine.resume(co, ...)) end
    end

    function spawn(fn, ...)
      if type(fn) ~= "function" then
        error(("spawn: expected a function (got %s)"):format(type(fn)), 2)
      end
      return spawn_raw(fn, ...)
    end

    function parallel(...)
      local fns = pack(...)
      for i = 1, fns.n do
        if type(fns[i]) ~= "function" then
          error(("parallel: argument %d must be a function (got %s)"):format(i, type(fns[i])), 2)
        end
      end
      local handles = {}
      for i = 1, fns.n do handles[i] = spawn_raw(fns[i]) end
      -- Wait for every branch even after one fails: their generations are paid for.
      local results, failure = {}, nil
      for i = 1, fns.n do
        local ok, value = pcall(wait_raw, handles[i])
        if ok then results[i] = value elseif failure == nil then failure = value end
      end
      if failure ~= nil then error(failure, 0) end
      return unpack(results, 1, fns.n)
    end

    function map(list, fn, opts)
      if type(list) ~= "table" then error(("map: 'list' must be a table (got %s)"):format(type(list)), 2) end
      if type(fn) ~= "function" then error(("map: 'fn' must be a function (got %s)"):format(type(fn)), 2) end
      if opts ~= nil and type(opts) ~= "table" then error(("map: options must be a table (got %s)"):format(type(opts)), 2) end
      local n = #list
      local limit = n
      if opts and opts.concurrency ~= nil then
        limit = opts.concurrency
        if math.type(limit) ~= "integer" or limit < 1 then
          error(("map: 'concurrency' must be a whole number of 1 or more (got %s)"):format(tostring(limit)), 2)
        end
      end
      for key in pairs(opts or {}) do
        if key ~= "concurrency" then error(("map: unknown option '%s' (valid: concurrency)"):format(tostring(key)), 2) end
      end
      local results, failures, next_index = {}, {}, 1
      local function worker()
        while next_index <= n do
          local i = next_index
          next_index = i + 1
          local ok, value = pcall(fn, list[i], i)
          if ok then results[i] = value else failures[#failures + 1] = { index = i, value = value } end
        end
      end
      local handles = {}
      for w = 1, math.min(limit, n) do handles[w] = spawn_raw(worker) end
      for w = 1, #handles do wait_raw(handles[w]) end
      if #failures > 0 then
        table.sort(failures, function(a, b) return a.index < b.index end)
        error(failures[1].value, 0)
      end
      return results
    end

    -- Scripts load as text only: binary chunks can crash the VM.
    local raw_load = load
    function load(chunk, name, mode, env)
      if env ~= nil then return raw_load(chunk, name, "t", env) end
      return raw_load(chunk, name, "t")
    end
    function loadfile(path, mode, env)
      local file, err = io.open(path, "rb")
      if not file then return nil, err end
      local text = file:read("a")
      file:close()
      return load(text, "@" .. path, "t", env)
    end
    function dofile(path)
      local fn = assert(loadfile(path))
      return fn()
    end
    if package and package.searchers then
      package.searchers[2] = function(name)
        local path, err = package.searchpath(name, package.path)
        if not path then return "\n\t" .. err end
        local fn, lerr = loadfile(path)
        if not fn then error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, lerr), 2) end
        return fn, path
      end
    end
    """#
}
