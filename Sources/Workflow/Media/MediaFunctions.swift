import Foundation
import LuaRuntime
import Support
import VideoAPI

/// The media functions: `last_frame`, `frame`, `concat`, `trim` and `seams` (bound in
/// `ReelLibrary.binding(of:)`). Each checks its arguments at the call (a wrong one is an
/// error at the script's line), then parks the coroutine while the generator carries out the step — ffmpeg in a live run, a stand-in in
/// a dry run — and returns an Image or a local Video.
extension ReelLibrary {
    func lastFrame(_ call: LuaCall) throws -> HostResult {
        let clip = try clipArgument(call, 1, function: LuaFunction.library(.lastFrame).name)
        return runMedia(.lastFrame(LuaVideo.clip(clip))) { output in
            LuaImage.make(output, label: "last frame of \(clip.label)")
        }
    }

    func frame(_ call: LuaCall) throws -> HostResult {
        let clip = try clipArgument(call, 1, function: LuaFunction.library(.frame).name)
        guard let seconds = try call.argument(2).numberValue, seconds >= 0, seconds.isFinite else {
            throw ReelLuaError(.invalidRequest, "frame: the second argument is the time in seconds, 0 or more (e.g. frame(v, 2.5))")
        }
        if let length = LuaVideo.clip(clip).duration, seconds > length {
            throw ReelLuaError(.invalidRequest, "frame: \(seconds) s is past the end of \(clip.label) (\(Self.seconds(length)) long); use last_frame(v) for its end")
        }
        return runMedia(.frame(LuaVideo.clip(clip), seconds: seconds)) { output in
            LuaImage.make(output, label: "frame at \(Self.seconds(seconds)) of \(clip.label)")
        }
    }

    func concat(_ call: LuaCall) throws -> HostResult {
        let function = LuaAPI.function(.library(.concat))
        let clips = try clipList(call, function: function.name, minimum: 1)
        let options = try LuaOption.check(try call.argument(2), of: function.name, argument: 2, against: function.declaredOptions)
        // A fade's length alone asks for a fade; a cut has no length.
        let fades = options.isGiven("transition") ? options["transition"] == .string("fade") : options.isGiven("fade")
        if !fades && options.isGiven("fade") {
            throw ReelLuaError(.invalidRequest, "concat: 'fade' goes with transition = \"fade\" (a cut has no length)")
        }
        let step = MediaStep.concat(clips.map(LuaVideo.clip), fade: fades ? options["fade"].numberValue : nil)
        let first = clips[0].video
        let label = "film of \(clips.count) clip\(clips.count == 1 ? "" : "s")" + (call.position.map { " (\(($0 as NSString).lastPathComponent))" } ?? "")
        return runMedia(step) { output in
            LuaVideo.make(LuaVideo.Handle(Self.localVideo(output, request: first.request), label: label, madeBy: function.name,
                                          measuredDuration: output.duration, clips: clips.map(LuaVideo.make)))
        }
    }

    func trim(_ call: LuaCall) throws -> HostResult {
        let function = LuaAPI.function(.library(.trim))
        let clip = try clipArgument(call, 1, function: function.name)
        let options = try LuaOption.check(try call.argument(2), of: function.name, argument: 2, against: function.declaredOptions)
        let from = options["from"].numberValue ?? 0
        let to = options["to"].numberValue
        if let to, to <= from { throw ReelLuaError(.invalidRequest, "trim: 'to' (\(to)) must be after 'from' (\(from))") }
        if let length = LuaVideo.clip(clip).duration, from >= length {
            throw ReelLuaError(.invalidRequest, "trim: 'from' (\(from) s) is past the end of \(clip.label) (\(Self.seconds(length)) long)")
        }
        return runMedia(.trim(LuaVideo.clip(clip), from: from, to: to)) { output in
            LuaVideo.make(LuaVideo.Handle(Self.localVideo(output, request: clip.video.request), label: "\(clip.label) from \(Self.seconds(from))",
                                          madeBy: function.name, measuredDuration: output.duration))
        }
    }

    func seams(_ call: LuaCall) throws -> HostResult {
        // A film made by concat stands for its clips.
        let clips: [LuaVideo.Handle]
        if let film = LuaVideo.handle(in: try call.argument(1)), film.madeBy == LuaFunction.library(.concat).name {
            clips = film.clips.compactMap(LuaVideo.handle(in:))
        } else {
            clips = try clipList(call, function: LuaFunction.library(.seams).name, minimum: 2)
        }
        guard clips.count >= 2 else {
            throw ReelLuaError(.invalidRequest, "seams: a film of one clip has no cuts to show")
        }
        return runMedia(.seams(clips.map(LuaVideo.clip))) { output in
            LuaImage.make(output, label: "seams of \(clips.count) clips")
        }
    }

    /// Runs `step` in the generator and hands its output to Lua.
    private func runMedia(_ step: MediaStep, _ result: @escaping @Sendable (MediaOutput) -> LuaValue) -> HostResult {
        let generator = self.generator
        let function = step.function
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
