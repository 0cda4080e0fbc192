/// The one shape of every error a reel function raises: a table `{code=…, message=…,
/// where=…}` (plus any `fields`, e.g. `task_id`) whose `tostring` is `where: message`.
/// The runtime's own functions (sleep, spawn, map, …) raise it, and so does every library
/// function, so `pcall` always hands a script the same kind of value.
public struct LuaErrorTable: LuaErrorConvertible, CustomStringConvertible, Sendable {
    /// The metatable's registry name (registered by every `LuaState`).
    public static let typeName = "reel.Error"
    /// A misuse of a function: a wrong argument or option.
    public static let invalidRequest = "invalid_request"

    public var code: String
    public var message: String
    /// Further fields of the table (`task_id`, `http_status`).
    public var fields: [String: LuaValue]

    public init(code: String = LuaErrorTable.invalidRequest, _ message: String, fields: [String: LuaValue] = [:]) {
        self.code = code
        self.message = message
        self.fields = fields
    }

    public var description: String { message }

    /// `concat: argument 2 must be an options table (got number)`.
    public static func notATable(function: String, argument: Int, got value: LuaValue) -> LuaErrorTable {
        LuaErrorTable("\(function): argument \(argument) must be an options table (got \(value.typeName))")
    }

    public func luaErrorValue(position: String?) -> LuaValue {
        var all = fields
        all["code"] = .string(code)
        all["message"] = .string(message)
        all["where"] = .string(position ?? "?")
        return .table(LuaTable(fields: all, metatable: Self.typeName))
    }

    /// `__tostring` of the error table.
    static func tostring(_ call: LuaCall) throws -> HostResult {
        guard case .table(let t) = try call.argument(1) else { return .value(.string("reel error")) }
        let place = t["where"].stringValue.map { $0 == "?" ? "" : "\($0): " } ?? ""
        return .value(.string(place + (t["message"].stringValue ?? "error")))
    }
}
