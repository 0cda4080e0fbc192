import Foundation
import VideoAPI

/// A video a media step works on: its local file (nil in a dry run, where nothing exists yet)
/// and the take's label, for seam sheets.
public struct MediaClip: Sendable, Equatable {
    public var path: String?
    public var label: String
    /// Seconds: measured for local files, planned for dry-run stand-ins.
    public var duration: Double?

    public init(path: String?, label: String, duration: Double?) {
        self.path = path
        self.label = label
        self.duration = duration
    }
}

/// One media step, as the Lua functions ask for it: the same value is planned by the dry run
/// and carried out (with ffmpeg) by the live generator.
public enum MediaStep: Sendable, Equatable {
    case lastFrame(MediaClip)
    case frame(MediaClip, seconds: Double)
    case concat([MediaClip], fade: Double?)
    case trim(MediaClip, from: Double, to: Double?)
    case seams([MediaClip])

    /// The Lua function that asks for it.
    public var luaFunction: LuaFunction {
        switch self {
        case .lastFrame: .library(.lastFrame)
        case .frame: .library(.frame)
        case .concat: .library(.concat)
        case .trim: .library(.trim)
        case .seams: .library(.seams)
        }
    }

    /// Its name, e.g. `last_frame`.
    public var function: String { luaFunction.name }

    public var makesImage: Bool {
        switch self {
        case .lastFrame, .frame, .seams: true
        case .concat, .trim: false
        }
    }

    public var clips: [MediaClip] {
        switch self {
        case .lastFrame(let clip), .frame(let clip, _), .trim(let clip, _, _): [clip]
        case .concat(let clips, _), .seams(let clips): clips
        }
    }

    /// Everything but the inputs that makes the output what it is (part of its key).
    var parameters: String {
        switch self {
        case .lastFrame: ""
        case .frame(_, let seconds): "at=\(seconds)"
        case .concat(_, let fade): fade.map { "fade=\($0)" } ?? "cut"
        case .trim(_, let from, let to): "from=\(from) to=\(to.map { "\($0)" } ?? "end")"
        case .seams(let clips): clips.map(\.label).joined(separator: "\n")
        }
    }

    /// The length of what it makes, when the inputs' lengths are known: a cut film is the sum
    /// of its clips, a faded one that less a fade per cut.
    public var expectedDuration: Double? {
        switch self {
        case .concat(let clips, let fade):
            let durations = clips.compactMap(\.duration)
            guard durations.count == clips.count else { return nil }
            return durations.reduce(0, +) - (fade ?? 0) * Double(max(0, clips.count - 1))
        case .trim(let clip, let from, let to):
            return (to ?? clip.duration).map { $0 - from }
        default: return nil
        }
    }

    /// "concat of 4 clips (fade 0.5 s)": a line of the plan.
    public var summary: String {
        switch self {
        case .lastFrame(let clip): "last_frame of \(clip.label)"
        case .frame(let clip, let seconds): "frame at \(seconds) s of \(clip.label)"
        case .concat(let clips, let fade): "concat of \(clips.count) clip\(clips.count == 1 ? "" : "s")" + (fade.map { " (fade \($0) s)" } ?? " (cuts)")
                + (expectedDuration.map { ", about \(Int($0.rounded())) s" } ?? "")
        case .trim(let clip, let from, let to): "trim of \(clip.label) from \(from) s to \(to.map { "\($0) s" } ?? "its end")"
        case .seams(let clips): "seams: a sheet of \(max(0, clips.count - 1)) cut\(clips.count == 2 ? "" : "s")"
        }
    }
}

/// What a media step made: a local file (an image or a video), or in a dry run a stand-in.
public struct MediaOutput: Sendable, Equatable {
    public var step: MediaStep
    /// The file; nil for a dry-run stand-in.
    public var path: String?
    /// A stand-in's name (`dry-run.invalid/…`), used where a path would be.
    public var placeholder: String?
    public var duration: Double?
    public var width: Int?
    public var height: Int?
    /// Found in the journal, not made now.
    public var reused: Bool

    public init(step: MediaStep, path: String?, placeholder: String? = nil, duration: Double? = nil, width: Int? = nil, height: Int? = nil,
                reused: Bool = false) {
        self.step = step
        self.path = path
        self.placeholder = placeholder
        self.duration = duration
        self.width = width
        self.height = height
        self.reused = reused
    }
}
