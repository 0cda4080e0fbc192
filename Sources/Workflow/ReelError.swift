import LuaRuntime
import VideoAPI

/// A `VideoAPIError` on its way into Lua: raised as the table
/// `{code=…, message=…, task_id=…}` whose `tostring` is `script.lua:LINE: message`.
struct ReelLuaError: LuaErrorConvertible, CustomStringConvertible {
    static let typeName = "reel.Error"
    let error: VideoAPIError

    init(_ error: VideoAPIError) { self.error = error }
    init(_ code: VideoAPIError.Code, _ message: String, taskID: String? = nil) {
        error = VideoAPIError(code, message, taskID: taskID)
    }

    var description: String { error.message }

    func luaErrorValue(position: String?) -> LuaValue {
        var fields: [String: LuaValue] = [
            "code": .string(error.code.rawValue),
            "message": .string(error.message),
            "where": .string(position ?? "?"),
        ]
        if let id = error.taskID { fields["task_id"] = .string(id) }
        if let status = error.httpStatus { fields["http_status"] = .integer(Int64(status)) }
        return .table(LuaTable(fields: fields, metatable: Self.typeName))
    }

    /// `__tostring` of the error table.
    static func tostring(_ call: LuaCall) throws -> HostResult {
        guard case .table(let t) = try call.argument(1) else { return .value(.string("reel error")) }
        let place = t["where"].stringValue.map { $0 == "?" ? "" : "\($0): " } ?? ""
        return .value(.string(place + (t["message"].stringValue ?? "error")))
    }
}
