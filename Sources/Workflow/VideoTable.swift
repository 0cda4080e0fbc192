import LuaRuntime
import VideoAPI

/// A `Video` in Lua: a plain table (so `pairs` and printing work) with reel's metatable for
/// `:save()`, `:info()` and `tostring`.
enum VideoTable {
    static let typeName = "reel.Video"

    /// The table for `video`: exactly the fields `LuaAPI.videoFields` documents.
    static func make(_ video: GeneratedVideo) -> LuaValue {
        var fields: [String: LuaValue] = [:]
        for field in LuaAPI.videoFields { fields[field.name] = value(of: field.name, in: video) }
        return .table(LuaTable(fields: fields, metatable: typeName))
    }

    /// One documented field's value (nil for a field that is absent, or not documented).
    static func value(of field: String, in video: GeneratedVideo) -> LuaValue {
        let request = video.request
        return switch field {
        case "id": .string(video.id)
        case "url": video.url.map(LuaValue.string) ?? .nil
        case "path": video.localPath.map(LuaValue.string) ?? .nil
        case "reused": video.reused ? .boolean(true) : .nil
        case "status": .string(video.status)
        case "model": .string(request.model)
        case "prompt": .string(request.prompt)
        case "mode": .string(request.mode.rawValue)
        case "duration": request.duration.map(LuaValue.integer) ?? .nil
        case "request": LuaJSON.lua(from: request.body())
        default: .nil
        }
    }

    static func tostring(_ call: LuaCall) throws -> HostResult {
        guard case .table(let t) = try call.argument(1) else { return .value("Video") }
        return .value(.string(describe(t, withFile: false)))
    }

    /// `Video(id=…, status=…, url=…)`, and with `withFile` where it was downloaded
    /// (how log() and the REPL show a Video).
    static func describe(_ t: LuaTable, withFile: Bool) -> String {
        let url = t["url"].stringValue.map { ", url=\($0)" } ?? ""
        let file = withFile ? (t["path"].stringValue.map { ", file=\($0)" } ?? "") : ""
        return "Video(id=\(t["id"].stringValue ?? "?"), status=\(t["status"].stringValue ?? "?")\(url)\(file))"
    }
}
