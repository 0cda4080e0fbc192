import CLua
import CLuaShim

/// Resource limits for scripts. A limit that is hit stops the script in a way its own
/// `pcall` cannot swallow (see CLuaShim's count hook).
public struct LuaLimits: Sendable {
    /// Bytes Lua may hold; nil for no limit.
    public var memoryBytes: Int?
    /// VM instructions the whole run may execute; nil for no limit.
    public var instructions: Int64?

    public init(memoryBytes: Int? = nil, instructions: Int64? = nil) {
        self.memoryBytes = memoryBytes
        self.instructions = instructions
    }
}

/// The one owner of a `lua_State`.
///
/// Not thread-safe by design: every call into Lua happens on whatever task runs `run`,
/// one at a time. Network work runs in other tasks and comes back through the scheduler
/// (see `Scheduler.swift`), the OpenResty cosocket pattern.
public final class LuaState {
    let L: OpaquePointer
    let info: UnsafeMutablePointer<reel_state_info>
    /// Every registered function; Lua's closures point at these, so they live as long as the state.
    var functions: [HostEntry] = []
    /// Scheduler state; lives here because the dispatcher reaches the owner from C.
    var scheduler = SchedulerState()
    /// Checks the options table of a runtime function (`map`) against its declaration, which
    /// the library installing the runtime holds: (function, options, argument number, the
    /// script's line) → the table with its defaults filled in. Without one, a table is taken
    /// as given.
    public var optionChecker: ((_ function: String, _ options: LuaValue, _ argument: Int, _ position: String?) throws -> LuaValue)?

    public init(limits: LuaLimits = LuaLimits()) throws(LuaScriptError) {
        _ = LuaState.callbacksInstalled
        info = .allocate(capacity: 1)
        info.initialize(to: reel_state_info())
        guard let state = reel_newstate(info) else {
            info.deallocate()
            throw LuaScriptError(message: "reel: could not create a Lua state (out of memory)")
        }
        L = state
        info.pointee.owner = Unmanaged.passUnretained(self).toOpaque()
        if reel_openlibs(L) != LUA_OK {
            let message = string(at: -1, on: L) ?? "unknown error"
            lua_close(L)
            info.deallocate()
            throw LuaScriptError(message: "reel: could not open the Lua libraries: \(message)")
        }
        if let bytes = limits.memoryBytes { info.pointee.memory_limit = bytes }
        if let count = limits.instructions { info.pointee.instructions_left = count }
        reel_install_hook(L, 1000)
        try installPrelude()
    }

    deinit {
        lua_close(L)
        info.deallocate()
    }

    private static let callbacksInstalled: Void = {
        reel_set_dispatch { L, entry in LuaState.dispatch(L!, entry!) }
        reel_set_release { object in Unmanaged<AnyObject>.fromOpaque(object!).release() }
    }()

    static func owner(of L: OpaquePointer) -> LuaState {
        Unmanaged<LuaState>.fromOpaque(reel_info(L).pointee.owner).takeUnretainedValue()
    }

    // MARK: Limits and stopping

    /// Asks the running script to stop at its next instruction (Ctrl-C, deadline).
    /// Safe to call from any thread.
    public func requestStop() { Self.requestStop(info) }

    static func requestStop(_ info: UnsafeMutablePointer<reel_state_info>) {
        if info.pointee.stop_reason == REEL_STOP_NONE { info.pointee.stop_reason = REEL_STOP_INTERRUPT }
        info.pointee.stop_requested = 1
    }

    /// Why the script was stopped, if it was.
    public var stopReason: LuaStopReason? {
        guard info.pointee.stop_requested != 0 else { return nil }
        switch info.pointee.stop_reason {
        case REEL_STOP_INSTRUCTIONS: return .instructionLimit
        case REEL_STOP_MEMORY: return .memoryLimit
        default: return .interrupted
        }
    }

    // MARK: Globals and modules

    /// Sets a global without invoking any metamethod of `_G`.
    public func setGlobal(_ name: String, _ value: LuaValue) {
        lua_rawgeti(L, reel_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        push(.string(name), on: L)
        push(value, on: L)
        lua_rawset(L, -3)
        reel_pop(L, 1)
    }

    /// Reads a global without invoking any metamethod of `_G`.
    public func global(_ name: String) throws -> LuaValue {
        lua_rawgeti(L, reel_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        push(.string(name), on: L)
        lua_rawget(L, -2)
        defer { reel_pop(L, 2) }
        return try value(at: -1, on: L)
    }

    /// Registers `body` as the global function `name` (and as `table.name` when `table` is
    /// given, creating that global table if needed).
    public func register(_ name: String, in table: String? = nil, _ body: @escaping HostFunction) {
        pushHostFunction(named: table.map { "\($0).\(name)" } ?? name, body)
        if let table {
            pushGlobalTable(table)
            lua_pushvalue(L, -2)
            lua_setfield(L, -2, name)
            reel_pop(L, 1)
        }
        lua_rawgeti(L, reel_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        reel_insert(L, -2)
        lua_setfield(L, -2, name)
        reel_pop(L, 1)
    }

    /// Creates (or fetches) a registry metatable for tables, e.g. a `Video`, with methods and
    /// an optional `__tostring`.
    public func registerTableType(
        _ typeName: String, methods: [String: HostFunction], tostring: HostFunction? = nil
    ) {
        luaL_newmetatable(L, typeName)
        lua_createtable(L, 0, Int32(methods.count))
        for (name, body) in methods.sorted(by: { $0.key < $1.key }) {
            pushHostFunction(named: "\(typeName):\(name)", body)
            lua_setfield(L, -2, name)
        }
        lua_setfield(L, -2, "__index")
        if let tostring {
            pushHostFunction(named: "\(typeName).__tostring", tostring)
            lua_setfield(L, -2, "__tostring")
        }
        reel_pop(L, 1)
    }

    /// Registers a host-object type: a userdata holding a Swift object, whose fields `field`
    /// reads (object, key), which `pairs` walks through `fields` (object), and which no script
    /// can change: assigning a field raises `readOnlyMessage`.
    public func registerObjectType(_ typeName: String, methods: [String: HostFunction], field: @escaping HostFunction, fields: @escaping HostFunction,
                                   tostring: HostFunction? = nil, readOnlyMessage: String) {
        lua_createtable(L, 0, Int32(methods.count))
        for (name, body) in methods.sorted(by: { $0.key < $1.key }) {
            pushHostFunction(named: "\(typeName):\(name)", body)
            lua_setfield(L, -2, name)
        }
        pushHostFunction(named: "\(typeName).__index", field)
        pushHostFunction(named: "\(typeName).__pairs", fields)
        reel_set_object_accessors(L, typeName, readOnlyMessage)
        if let tostring {
            reel_push_object_metatable(L, typeName)
            pushHostFunction(named: "\(typeName).__tostring", tostring)
            lua_setfield(L, -2, "__tostring")
            reel_pop(L, 1)
        }
    }

    /// Copies the global `name` into the global table `table` (so `reel.map` is `map`).
    public func copyGlobal(_ name: String, into table: String) {
        pushGlobalTable(table)
        lua_getglobal(L, name)
        lua_setfield(L, -2, name)
        reel_pop(L, 1)
    }

    /// The raw `lua_State`, for benchmarks that compare against plain C functions. Any use
    /// must follow the rules of CLuaShim.h: nothing that raises or yields from Swift.
    public func withRawState<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T { try body(L) }

    /// Makes `require(name)` return the global table `table`.
    public func preload(module name: String, table: String) {
        lua_getglobal(L, "package")
        lua_getfield(L, -1, "loaded")
        pushGlobalTable(table)
        lua_setfield(L, -2, name)
        reel_pop(L, 2)
    }

    /// Lets `require` find modules in `directory` (beside the script) first.
    public func addModuleDirectory(_ directory: String) {
        let dir = directory.isEmpty ? "." : directory
        lua_getglobal(L, "package")
        lua_getfield(L, -1, "path")
        let old = string(at: -1, on: L) ?? ""
        reel_pop(L, 1)
        push(.string("\(dir)/?.lua;\(dir)/?/init.lua;\(old)"), on: L)
        lua_setfield(L, -2, "path")
        reel_pop(L, 1)
    }

    private func pushGlobalTable(_ name: String) {
        lua_rawgeti(L, reel_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        if lua_getfield(L, -1, name) != LUA_TTABLE {
            reel_pop(L, 1)
            lua_createtable(L, 0, 16)
            lua_pushvalue(L, -1)
            lua_setfield(L, -3, name)
        }
        reel_remove(L, -2)
    }

    func pushHostFunction(named name: String, _ body: @escaping HostFunction) {
        pushHostFunction(named: name, body: .host(body))
    }

    func pushHostFunction(named name: String, body: HostBody) {
        let entry = HostEntry(name: name, body: body)
        functions.append(entry)
        reel_push_host_function(L, Unmanaged.passUnretained(entry).toOpaque())
    }

    // MARK: Loading

    /// Compiles `source` (text only, never a binary chunk) and pushes the chunk function.
    func load(_ source: String, chunkName: String) throws(LuaScriptError) {
        var source = source
        let status = source.withUTF8 { buf in
            buf.withMemoryRebound(to: CChar.self) {
                reel_load_text(L, $0.baseAddress, $0.count, chunkName)
            }
        }
        if status != LUA_OK {
            let message = string(at: -1, on: L) ?? "could not load \(chunkName)"
            reel_pop(L, 1)
            throw LuaScriptError(message: message)
        }
    }

    /// Runs one of reel's own Lua chunks (named "=(reel)", so errors point past it to the
    /// user's line) with the values at the absolute `stackIndices` as its `...`.
    func runSetupChunk(_ source: String, with stackIndices: [Int32]) throws(LuaScriptError) {
        try load(source, chunkName: "=(reel)")
        for index in stackIndices { lua_pushvalue(L, index) }
        if reel_pcall_traceback(L, Int32(stackIndices.count), 0) != LUA_OK {
            let message = string(at: -1, on: L) ?? "reel's set-up chunk failed"
            reel_pop(L, 1)
            throw LuaScriptError(message: message)
        }
    }
}

public enum LuaStopReason: Sendable, Equatable {
    case interrupted, instructionLimit, memoryLimit
}

/// A script that failed: its message (with `file:line:`), its traceback, and the error
/// value itself (a table for reel's own errors).
public struct LuaScriptError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var traceback: String
    public var value: LuaValue
    public var stopReason: LuaStopReason?

    public init(message: String, traceback: String = "", value: LuaValue = .nil, stopReason: LuaStopReason? = nil) {
        self.message = message
        self.traceback = traceback
        self.value = value
        self.stopReason = stopReason
    }

    public var description: String { message }
}
