import LuaRuntime
import VideoAPI

/// A `Video` in Lua: a userdata holding the generation itself (its journal key and local file
/// included), with read-only fields — it is the record of a paid generation, so a script
/// cannot edit what reel knows about it — and the methods `:save()` and `:info()`.
/// `pairs(video)` lists its fields; `tostring` shows `Video(id=…, status=…, url=…)`.
enum LuaVideo {
    static let typeName = "reel.Video"
    static let readOnlyMessage = "a Video's fields are read-only (it is the record of a generation); copy what you need into a table of your own"

    /// What the userdata holds.
    final class Handle: Sendable {
        let video: GeneratedVideo
        init(_ video: GeneratedVideo) { self.video = video }
    }

    static func make(_ video: GeneratedVideo) -> LuaValue {
        .userdata(LuaUserdata(Handle(video), metatable: typeName))
    }

    /// The generation behind a Lua value, if it is a Video.
    static func video(in value: LuaValue) -> GeneratedVideo? {
        guard case .userdata(let u) = value, let handle = u.object as? Handle else { return nil }
        return handle.video
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

    /// Every documented field (`LuaAPI.videoFields`) with a value, as a plain table.
    static func fields(of video: GeneratedVideo) -> LuaTable {
        var fields: [String: LuaValue] = [:]
        for field in LuaAPI.videoFields { fields[field.name] = value(of: field.name, in: video) }
        return LuaTable(fields: fields)
    }

    /// `video.key` (methods are found before this is asked).
    static func field(_ call: LuaCall) throws -> HostResult {
        guard let video = video(in: try call.argument(1)), case .string(let key) = try call.argument(2) else { return .value(.nil) }
        return .value(value(of: key, in: video))
    }

    /// `pairs(video)`.
    static func allFields(_ call: LuaCall) throws -> HostResult {
        guard let video = video(in: try call.argument(1)) else { return .value(.table(LuaTable())) }
        return .value(.table(fields(of: video)))
    }

    static func tostring(_ call: LuaCall) throws -> HostResult {
        guard let video = video(in: try call.argument(1)) else { return .value("Video") }
        return .value(.string(describe(video, withFile: false)))
    }

    /// `Video(id=…, status=…, url=…)`, and with `withFile` where it was downloaded
    /// (how log() and the REPL show a Video).
    static func describe(_ video: GeneratedVideo, withFile: Bool) -> String {
        let url = video.url.map { ", url=\($0)" } ?? ""
        let file = withFile ? (video.localPath.map { ", file=\($0)" } ?? "") : ""
        return "Video(id=\(video.id), status=\(video.status)\(url)\(file))"
    }
}
