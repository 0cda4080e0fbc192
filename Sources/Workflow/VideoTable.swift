import LuaRuntime
import VideoAPI

/// A `Video` in Lua: a plain table (so `pairs` and printing work) with reel's metatable for
/// `:save()`, `:info()` and `tostring`.
enum VideoTable {
    static let typeName = "reel.Video"

    static func make(_ video: GeneratedVideo) -> LuaValue {
        let request = video.request
        return .table(LuaTable(fields: [
            "id": .string(video.id),
            "url": video.url.map(LuaValue.string) ?? .nil,
            "path": video.localPath.map(LuaValue.string) ?? .nil,
            "reused": video.reused ? .boolean(true) : .nil,
            "status": .string(video.status),
            "model": .string(request.model),
            "prompt": .string(request.prompt),
            "mode": .string(request.mode.rawValue),
            "duration": request.duration.map(LuaValue.integer) ?? .nil,
            "request": LuaJSON.lua(from: request.body()),
        ], metatable: typeName))
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
