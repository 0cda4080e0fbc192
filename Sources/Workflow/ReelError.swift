import LuaRuntime
import VideoAPI

/// A `VideoAPIError` on its way into Lua: raised as the runtime's error table
/// `{code=…, message=…, task_id=…}` whose `tostring` is `script.lua:LINE: message`.
struct ReelLuaError: LuaErrorConvertible, CustomStringConvertible {
    let error: VideoAPIError

    init(_ error: VideoAPIError) { self.error = error }
    init(_ code: VideoAPIError.Code, _ message: String, taskID: String? = nil) {
        error = VideoAPIError(code, message, taskID: taskID)
    }

    var description: String { error.message }

    func luaErrorValue(position: String?) -> LuaValue {
        var fields: [String: LuaValue] = [:]
        if let id = error.taskID { fields["task_id"] = .string(id) }
        if let status = error.httpStatus { fields["http_status"] = .integer(Int64(status)) }
        return LuaErrorTable(code: error.code.rawValue, error.message, fields: fields).luaErrorValue(position: position)
    }
}
