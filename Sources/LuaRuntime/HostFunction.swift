import CLua
import CLuaShim

/// A Swift function callable from Lua. It reads its arguments from the `LuaCall`, then
/// either returns values at once or asks to wait for asynchronous work, which parks only
/// the calling coroutine. Throwing raises a Lua error at the caller's line — raised by C
/// after this Swift frame has returned.
public typealias HostFunction = (LuaCall) throws -> HostResult

/// How a registered function is implemented: the public kind, or a runtime primitive that
/// works on the raw stack (spawn, wait) and returns a count or a REEL_HOST_* status.
enum HostBody {
    case host(HostFunction)
    case raw((LuaState, OpaquePointer) throws -> Int32)
}

/// One registered function, reached from its Lua closure's upvalue.
final class HostEntry {
    let name: String
    let body: HostBody

    init(name: String, body: HostBody) {
        self.name = name
        self.body = body
    }
}

public enum HostResult {
    case none
    case value(LuaValue)
    case values([LuaValue])
    /// Park the calling coroutine until `operation` finishes; its values (or error) resume it.
    case wait(@Sendable () async throws -> [LuaValue])
}

/// The arguments and context of one call from Lua into Swift.
public struct LuaCall {
    // unowned(unsafe): a call never outlives the dispatch that made it, and the state and
    // entry outlive every call; plain `unowned` would cost reference counting per call.
    public unowned(unsafe) let state: LuaState
    unowned(unsafe) let entry: HostEntry
    let L: OpaquePointer
    public let argumentCount: Int

    /// The registered name, e.g. `text_to_video` or `reel.Video:save`.
    public var functionName: String { entry.name }

    /// Argument `index` (1-based); `.nil` past the end.
    public func argument(_ index: Int) throws -> LuaValue {
        guard index >= 1, index <= argumentCount else { return .nil }
        do {
            return try state.value(at: Int32(index), on: L)
        } catch {
            throw LuaArgumentError("\(functionName): argument \(index) \(error.reason)")
        }
    }

    public var arguments: [LuaValue] {
        get throws { try (0..<argumentCount).map { try argument($0 + 1) } }
    }

    /// `script.lua:LINE` of the user's code that made this call, if any.
    public var position: String? { LuaState.position(in: L) }
}

/// A plain message raised as a Lua error at the caller's position, like `luaL_error`.
public struct LuaArgumentError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An error that knows what Lua value it becomes (reel's error tables).
public protocol LuaErrorConvertible: Error {
    /// The value to raise; `position` is `script.lua:LINE` of the call, if known.
    func luaErrorValue(position: String?) -> LuaValue
}

struct LuaConversionError: Error {
    let reason: String
}

extension LuaState {
    /// Called from C for every registered function. Never lets a Swift error or a longjmp
    /// cross this frame: it pushes values or an error and returns a status.
    static func dispatch(_ L: OpaquePointer, _ entryPointer: UnsafeMutableRawPointer) -> Int32 {
        // Borrowed, not retained: both are kept alive by the state for as long as Lua runs.
        Unmanaged<LuaState>.fromOpaque(reel_info(L).pointee.owner)._withUnsafeGuaranteedRef { state in
            Unmanaged<HostEntry>.fromOpaque(entryPointer)._withUnsafeGuaranteedRef { entry in
                dispatch(L, state: state, entry: entry)
            }
        }
    }

    private static func dispatch(_ L: OpaquePointer, state: LuaState, entry: HostEntry) -> Int32 {
        do {
            let body: HostFunction
            switch entry.body {
            case .raw(let primitive): return try primitive(state, L)
            case .host(let function): body = function
            }
            let call = LuaCall(state: state, entry: entry, L: L, argumentCount: Int(lua_gettop(L)))
            switch try body(call) {
            case .none:
                return 0
            case .value(let v):
                state.push(v, on: L)
                return 1
            case .values(let vs):
                guard lua_checkstack(L, Int32(vs.count) + 1) != 0 else {
                    throw LuaArgumentError("\(entry.name): too many results")
                }
                for v in vs { state.push(v, on: L) }
                return Int32(vs.count)
            case .wait(let operation):
                return try state.beginWait(on: L, name: entry.name, operation)
            }
        } catch {
            state.pushError(error, position: position(in: L), on: L)
            return REEL_HOST_RAISE
        }
    }

    /// Pushes the Lua value an error becomes: reel's error tables stay tables; anything
    /// else becomes `"script.lua:LINE: message"`, as `luaL_error` would make it.
    func pushError(_ error: any Error, position: String?, on L: OpaquePointer) {
        if let convertible = error as? LuaErrorConvertible {
            push(convertible.luaErrorValue(position: position), on: L)
        } else {
            let prefix = position.map { "\($0): " } ?? ""
            push(.string(prefix + String(describing: error)), on: L)
        }
    }

    static func position(in L: OpaquePointer) -> String? {
        var source = [CChar](repeating: 0, count: 256)
        var line: Int32 = 0
        guard reel_where(L, &source, source.count, &line) != 0 else { return nil }
        let file = source.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(file):\(line)"
    }
}
