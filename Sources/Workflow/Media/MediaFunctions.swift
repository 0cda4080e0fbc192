import Foundation
import LuaRuntime
import Support
import VideoAPI

/// The media functions: `last_frame`, `frame`, `concat`, `trim` and `seams`. Each checks its
/// arguments at the call (a wrong one is an error at the script's line), then parks the
/// coroutine while the generator carries out the step — ffmpeg in a live run, a stand-in in
/// a dry run — and returns an Image or a local Video.
extension ReelLibrary {
    static let mediaFunctionNames = ["last_frame", "frame", "concat", "trim", "seams"]

    func installMedia(into lua: LuaState) {
        lua.register("last_frame", in: "reel") { [unowned self] call in
            let clip = try clipArgument(call, 1, function: "last_frame")
            return runMedia(.lastFrame(LuaVideo.clip(clip)), function: "last_frame") { output in
                LuaImage.make(output, label: "last frame of \(clip.label)")
            }
        }
        lua.register("frame", in: "reel") { [unowned self] call in
            let clip = try clipArgument(call, 1, function: "frame")
            guard let seconds = try call.argument(2).numberValue, seconds >= 0, seconds.isFinite else {
                throw ReelLuaError(.invalidRequest, "frame: the second argument is the time in seconds, 0 or more (e.g. frame(v, 2.5))")
            }
            if let length = LuaVideo.clip(clip).duration, seconds > length {
                throw ReelLuaError(.invalidRequest, "frame: \(seconds) s is past the end of \(clip.label) (\(Self.seconds(length)) long); use last_frame(v) for its end")
            }
            return runMedia(.frame(LuaVideo.clip(clip), seconds: seconds), function: "frame") { output in
                LuaImage.make(output, label: "frame at \(Self.seconds(seconds)) of \(clip.label)")
            }
        }
        lua.register("concat", in: "reel") { [unowned self] call in
            let clips = try clipList(call, function: "concat", minimum: 1)
            let options = try optionTable(call, 2, function: "concat", known: ["transition", "fade"])
            var fade: Double?
            switch options["transition"] {
            case .nil, .string("cut"): if !options["fade"].isNil { fade = try fadeSeconds(options["fade"]) }
            case .string("fade"): fade = options["fade"].isNil ? 0.5 : try fadeSeconds(options["fade"])
            case let other: throw ReelLuaError(.invalidRequest, "concat: 'transition' is \"cut\" or \"fade\" (got \(LuaJSON.describe(other)))")
            }
            if case .string("cut") = options["transition"], fade != nil {
                throw ReelLuaError(.invalidRequest, "concat: 'fade' goes with transition = \"fade\" (a cut has no length)")
            }
            let step = MediaStep.concat(clips.map(LuaVideo.clip), fade: fade)
            let first = clips[0].video
            let label = "film of \(clips.count) clip\(clips.count == 1 ? "" : "s")" + (call.position.map { " (\(($0 as NSString).lastPathComponent))" } ?? "")
            return runMedia(step, function: "concat") { output in
                LuaVideo.make(LuaVideo.Handle(Self.localVideo(output, request: first.request), label: label, madeBy: "concat",
                                              measuredDuration: output.duration, clips: clips.map(LuaVideo.make)))
            }
        }
        lua.register("trim", in: "reel") { [unowned self] call in
            let clip = try clipArgument(call, 1, function: "trim")
            let options = try optionTable(call, 2, function: "trim", known: ["from", "to"])
            let from = try options["from"].isNil ? 0 : seconds(options["from"], name: "from", function: "trim")
            let to = try options["to"].isNil ? nil : seconds(options["to"], name: "to", function: "trim")
            if let to, to <= from { throw ReelLuaError(.invalidRequest, "trim: 'to' (\(to)) must be after 'from' (\(from))") }
            if let length = LuaVideo.clip(clip).duration, from >= length {
                throw ReelLuaError(.invalidRequest, "trim: 'from' (\(from) s) is past the end of \(clip.label) (\(Self.seconds(length)) long)")
            }
            return runMedia(.trim(LuaVideo.clip(clip), from: from, to: to), function: "trim") { output in
                LuaVideo.make(LuaVideo.Handle(Self.localVideo(output, request: clip.video.request), label: "\(clip.label) from \(Self.seconds(from))",
                                              madeBy: "trim", measuredDuration: output.duration))
            }
        }
        lua.register("seams", in: "reel") { [unowned self] call in
            // A film made by concat stands for its clips.
            let clips: [LuaVideo.Handle]
            if let film = LuaVideo.handle(in: try call.argument(1)), film.madeBy == "concat" {
                clips = film.clips.compactMap(LuaVideo.handle(in:))
            } else {
                clips = try clipList(call, function: "seams", minimum: 2)
            }
            guard clips.count >= 2 else {
                throw ReelLuaError(.invalidRequest, "seams: a film of one clip has no cuts to show")
            }
            return runMedia(.seams(clips.map(LuaVideo.clip)), function: "seams") { output in
                LuaImage.make(output, label: "seams of \(clips.count) clips")
            }
        }
        lua.registerObjectType(LuaImage.typeName, methods: [:], field: LuaImage.field, fields: LuaImage.allFields,
                               tostring: LuaImage.tostring, readOnlyMessage: LuaImage.readOnlyMessage)
        for name in Self.mediaFunctionNames { lua.copyGlobal(name, into: "reel") }
    }

    /// Runs `step` in the generator and hands its output to Lua.
    private func runMedia(_ step: MediaStep, function: String, _ result: @escaping @Sendable (MediaOutput) -> LuaValue) -> HostResult {
        let generator = self.generator
        return .wait {
            do {
                return [result(try await generator.media(step))]
            } catch let error as VideoAPIError {
                var prefixed = error
                if !prefixed.message.hasPrefix("\(function):") { prefixed.message = "\(function): \(error.message)" }
                throw ReelLuaError(prefixed)
            } catch is CancellationError {
                throw ReelLuaError(.cancelled, "\(function): cancelled")
            }
        }
    }

    /// The Video a media function works on (a Video, or a path to a video file).
    private func clipArgument(_ call: LuaCall, _ index: Int, function: String) throws -> LuaVideo.Handle {
        let value = try call.argument(index)
        if let handle = LuaVideo.handle(in: value) { return handle }
        if case .string(let path) = value, !path.isEmpty {
            let resolved = resolvedScriptPath(path)
            guard FileManager.default.fileExists(atPath: resolved) else {
                throw ReelLuaError(.invalidRequest, "\(function): no such file '\(path)' (paths are relative to the script's folder)")
            }
            if let roots = readableDirectories, !LuaState.isInside(LuaState.resolvedPath(resolved), roots) {
                throw ReelLuaError(.invalidRequest, "\(function): '\(path)': --sandbox allows local inputs only from \(roots.joined(separator: ", "))")
            }
            let request = try! RequestParser(caller: function, expectedMode: .text, source: .wire).parse([("prompt", .string("(a local file)"))]).request
            return LuaVideo.Handle(GeneratedVideo(id: (path as NSString).lastPathComponent, url: nil, status: .local, request: request, localPath: resolved),
                                   label: (path as NSString).lastPathComponent)
        }
        if LuaImage.handle(in: value) != nil {
            throw ReelLuaError(.invalidRequest, "\(function): argument \(index) is an Image; it takes a Video (or a video file's path)")
        }
        throw ReelLuaError(.invalidRequest, "\(function): argument \(index) must be a Video (got \(value.typeName))")
    }

    /// A list of Videos (argument 1).
    private func clipList(_ call: LuaCall, function: String, minimum: Int) throws -> [LuaVideo.Handle] {
        guard case .table(let table) = try call.argument(1), let items = table.sequence, items.count >= minimum else {
            throw ReelLuaError(.invalidRequest, "\(function): the first argument is a list of \(minimum == 1 ? "" : "at least \(minimum) ")Videos, e.g. \(function){ shot1, shot2 }")
        }
        return try items.enumerated().map { i, item in
            guard let handle = LuaVideo.handle(in: item) else {
                throw ReelLuaError(.invalidRequest, "\(function): item \(i + 1) of the list is a \(LuaImage.handle(in: item) != nil ? "Image" : item.typeName), not a Video")
            }
            return handle
        }
    }

    /// An options table with only `known` names (absent: empty).
    private func optionTable(_ call: LuaCall, _ index: Int, function: String, known: [String]) throws -> LuaTable {
        switch try call.argument(index) {
        case .nil: return LuaTable()
        case .table(let t):
            for key in t.entries.keys {
                guard case .string(let name) = key, known.contains(name) else {
                    let name = key.stringValue ?? LuaJSON.describe(key)
                    let hint = nearestName(to: name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
                    throw ReelLuaError(.invalidRequest, "\(function): unknown option '\(name)'\(hint); it takes \(known.joined(separator: ", "))")
                }
            }
            return t
        case let other: throw ReelLuaError(.invalidRequest, "\(function): argument \(index) must be an options table (got \(other.typeName))")
        }
    }

    private func fadeSeconds(_ value: LuaValue) throws -> Double {
        guard let fade = value.numberValue, fade > 0, fade <= 5 else {
            throw ReelLuaError(.invalidRequest, "concat: 'fade' is the cross-fade's length in seconds, more than 0 and at most 5 (got \(LuaJSON.describe(value)))")
        }
        return fade
    }

    private func seconds(_ value: LuaValue, name: String, function: String) throws -> Double {
        guard let seconds = value.numberValue, seconds >= 0, seconds.isFinite else {
            throw ReelLuaError(.invalidRequest, "\(function): '\(name)' is a time in seconds, 0 or more (got \(LuaJSON.describe(value)))")
        }
        return seconds
    }

    /// A video a media step made on this machine (or a dry run's stand-in for it).
    static func localVideo(_ output: MediaOutput, request: GenerationRequest) -> GeneratedVideo {
        let name = ((output.path ?? output.placeholder ?? "local") as NSString).lastPathComponent
        return GeneratedVideo(id: (name as NSString).deletingPathExtension, url: output.path == nil ? output.placeholder : nil,
                              status: output.path == nil ? .dryRun : .local, request: request, localPath: output.path,
                              reused: output.reused)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.2f s", value)
    }

    /// One rule for the paths a script gives: relative to the script's folder, or absolute.
    func resolvedScriptPath(_ path: String) -> String {
        path.hasPrefix("/") ? path : LuaVideo.absolute((scriptDirectory as NSString).appendingPathComponent(path))
    }
}
