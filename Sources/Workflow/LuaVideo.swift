import Foundation
import LuaRuntime
import VideoAPI

/// A `Video` in Lua: a userdata holding the generation itself (its journal key and local file
/// included), with read-only fields — it is the record of a paid generation, so a script
/// cannot edit what reel knows about it — and the methods `:save()` and `:info()`.
/// `pairs(video)` lists its fields; `tostring` shows `Video(id=…, status=…, url=…)`.
enum LuaVideo {
    static let typeName = "reel.Video"
    static let readOnlyMessage = "a Video's fields are read-only (it is the record of a generation); copy what you need into a table of your own"

    /// What the userdata holds: the generation, the take's label, and for a video made on
    /// this machine (concat, trim) what made it, its measured length and its clips.
    final class Handle: Sendable {
        let video: GeneratedVideo
        /// `s.lua:4 "a red fox…" seed 7`: how seam sheets and summaries name this take.
        let label: String
        /// "concat" or "trim" for a local video; nil for a generation.
        let madeBy: String?
        /// Seconds, measured (local videos) — a generation's is its requested duration.
        let measuredDuration: Double?
        /// A film's clips, in order (so `seams(film)` can show its cuts).
        let clips: [LuaValue]

        init(_ video: GeneratedVideo, label: String, madeBy: String? = nil, measuredDuration: Double? = nil, clips: [LuaValue] = []) {
            self.video = video
            self.label = label
            self.madeBy = madeBy
            self.measuredDuration = measuredDuration
            self.clips = clips
        }
    }

    static func make(_ video: GeneratedVideo, label: String? = nil) -> LuaValue {
        .userdata(LuaUserdata(Handle(video, label: label ?? video.id), metatable: typeName))
    }

    static func make(_ handle: Handle) -> LuaValue {
        .userdata(LuaUserdata(handle, metatable: typeName))
    }

    static func handle(in value: LuaValue) -> Handle? {
        guard case .userdata(let u) = value else { return nil }
        return u.object as? Handle
    }

    /// The generation behind a Lua value, if it is a Video.
    static func video(in value: LuaValue) -> GeneratedVideo? { handle(in: value)?.video }

    /// What a media step takes from a Video: its file, its label, its length (measured,
    /// requested, or in a dry run planned).
    static func clip(_ handle: Handle) -> MediaClip {
        let video = handle.video
        let duration = handle.measuredDuration
            ?? (video.status == .dryRun || video.status == .invalid ? Double(video.request.plannedSeconds) : video.request.duration.map(Double.init))
        return MediaClip(path: video.localPath.map(absolute), label: handle.label, duration: duration)
    }

    /// A path as reel hands it to scripts: absolute, so it works as an input from any folder.
    static func absolute(_ path: String) -> String { ReelPaths.absolute(path) }

    /// One documented field's value (nil for a field that is absent, or not documented).
    static func value(of field: String, in handle: Handle) -> LuaValue {
        let video = handle.video
        let request = video.request
        return switch field {
        case "id": .string(video.id)
        case "url": video.url.map(LuaValue.string) ?? .nil
        case "path": video.localPath.map { .string(absolute($0)) } ?? .nil
        case "reused": video.reused ? .boolean(true) : .nil
        case "status": .string(video.status.rawValue)
        case "model": .string(request.model)
        case "prompt": .string(request.prompt)
        case "mode": .string(handle.madeBy ?? request.mode.rawValue)
        case "duration": handle.measuredDuration.map(LuaValue.number) ?? request.duration.map(LuaValue.integer) ?? .nil
        case "label": .string(handle.label)
        // What was sent; a plan's body for a video nothing was sent for.
        case "request": LuaJSON.lua(from: video.sent ?? request.body())
        default: .nil
        }
    }

    /// Every documented field (`LuaAPI.videoFields`) with a value, as a plain table.
    static func fields(of handle: Handle) -> LuaTable {
        var fields: [String: LuaValue] = [:]
        for field in LuaAPI.videoFields { fields[field.name] = value(of: field.name, in: handle) }
        return LuaTable(fields: fields)
    }

    /// `video.key` (methods are found before this is asked).
    static func field(_ call: LuaCall) throws -> HostResult {
        guard let handle = handle(in: try call.argument(1)), case .string(let key) = try call.argument(2) else { return .value(.nil) }
        return .value(value(of: key, in: handle))
    }

    /// `pairs(video)`.
    static func allFields(_ call: LuaCall) throws -> HostResult {
        guard let handle = handle(in: try call.argument(1)) else { return .value(.table(LuaTable())) }
        return .value(.table(fields(of: handle)))
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
        return "Video(id=\(video.id), status=\(video.status.rawValue)\(url)\(file))"
    }
}
