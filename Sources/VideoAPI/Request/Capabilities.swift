import Support
/// The facts of the API (its public models and request fields), in one place: the models, what each can do, and
/// the allowed values. Validation, `reel models`, the help text, the simulator and the
/// editor definitions all read these tables; nothing else lists them.

/// The five ways to make a video, each with the Lua function that makes it.
public enum GenerationMode: String, Sendable, CaseIterable, Codable {
    case text, image, frames, reference, extend

    /// The Lua function for this mode (`generate` infers the mode instead).
    public var luaFunction: String {
        switch self {
        case .text: "text_to_video"
        case .image: "image_to_video"
        case .frames: "frames_to_video"
        case .reference: "reference_to_video"
        case .extend: "extend"
        }
    }

    /// The input fields this mode requires, and the only ones its function accepts.
    public var mediaFields: [String] {
        switch self {
        case .text: []
        case .image: ["image"]
        case .frames: ["image", "last_image"]
        case .reference: ["images"]
        case .extend: ["video"]
        }
    }

    /// The input given as the function's first argument rather than in its options table:
    /// `extend(video, {…})`.
    public var positionalField: String? { self == .extend ? "video" : nil }

    /// The mode a request with these fields makes: the input decides (`generate`'s rule).
    public init(inputs fields: Set<String>) {
        self = if fields.contains("video") { .extend }
            else if fields.contains("images") { .reference }
            else if fields.contains("last_image") { .frames }
            else if fields.contains("image") { .image }
            else { .text }
    }

    /// Every input field of any mode.
    public static let allMediaFields = ["image", "images", "last_image", "video"]

    /// How a warning names the mode's videos ("first+last frame videos").
    public var warningName: String {
        switch self {
        case .frames: "first+last frame"
        case .reference: "reference images"
        default: title
        }
    }

    /// The name the API's model table gives the capability.
    public var title: String {
        switch self {
        case .text: "text-to-video"
        case .image: "single-image-to-video"
        case .frames: "first-and-last-frame"
        case .reference: "multi-image-reference"
        case .extend: "video extension"
        }
    }
}

public enum Resolution: String, Sendable, CaseIterable, Codable {
    case p720 = "720p", p1080 = "1080p", k4 = "4k"
}

/// One public model name and its capabilities.
public struct VideoModel: Sendable, Hashable {
    public let name: String
    public let resolution: Resolution
    public let isFast: Bool
    public let modes: [GenerationMode]

    public func supports(_ mode: GenerationMode) -> Bool { modes.contains(mode) }
}

public enum Capabilities {
    private static let allModes = GenerationMode.allCases
    private static let fastModes: [GenerationMode] = [.text, .image, .frames, .extend]

    /// The six public models.
    public static let models: [VideoModel] = [
        VideoModel(name: "veo3.1-video-720p", resolution: .p720, isFast: false, modes: allModes),
        VideoModel(name: "veo3.1-video-1080p", resolution: .p1080, isFast: false, modes: allModes),
        VideoModel(name: "veo3.1-video-4k", resolution: .k4, isFast: false, modes: allModes),
        VideoModel(name: "veo3.1-fast-video-720p", resolution: .p720, isFast: true, modes: fastModes),
        VideoModel(name: "veo3.1-fast-video-1080p", resolution: .p1080, isFast: true, modes: fastModes),
        VideoModel(name: "veo3.1-fast-video-4k", resolution: .k4, isFast: true, modes: fastModes),
    ]

    /// The cheapest model: what a request gets when nobody chose one.
    public static let defaultModelName = "veo3.1-fast-video-720p"

    public static let aspectRatios = ["16:9", "9:16"]
    public static let durations: [Int64] = [4, 6, 8]
    public static let referenceImageCount = 2...3
    /// Upstream Veo makes these 8 s only (a warning: the gateway's own examples break it):
    /// resolutions above 720p, and these modes.
    public static let eightSecondOnlyModes: [GenerationMode] = [.frames, .reference]
    public static let eightSecondOnlyLength: Int64 = 8
    /// Upstream Veo extends 720p videos only (a warning).
    public static let extensionResolution = Resolution.p720
    /// Modes for which upstream Veo ignores `aspect_ratio` (a warning).
    public static let aspectRatioIgnoredModes: [GenerationMode] = [.image, .frames, .extend]
    /// Veo's seed is an unsigned 32-bit integer.
    public static let seedRange: ClosedRange<Int64> = 0...4_294_967_295
    /// A local file sent inline as a `data:` URI may be at most this large.
    public static let maxInlineFileBytes = 20 << 20
    /// The length upstream Veo uses when a request gives no duration (for the plan's totals).
    public static let assumedDefaultDuration: Int64 = 8
    /// What upstream Veo adds to a video when extending it, whatever `duration` says: the
    /// extended file is the source plus these seconds.
    public static let extensionAddsSeconds: Int64 = 7

    /// The seconds of new video a request is counted as — in the plan, the budget, the journal
    /// (so `reel spend`) and the run's summary: its `duration`, else upstream's default; an
    /// extension always `extensionAddsSeconds`, what upstream makes (and a gateway bills).
    public static func countedSeconds(mode: GenerationMode, duration: Int64?) -> Int64 {
        mode == .extend ? extensionAddsSeconds : duration ?? assumedDefaultDuration
    }

    public static func model(named name: String) -> VideoModel? {
        models.first { $0.name == name }
    }

    /// The model a mistyped name most likely meant, in the same tier: `veo3.1-fast-720p`
    /// means the fast 720p model, never the pricier standard one.
    public static func suggestion(forModel name: String) -> String? {
        let lower = name.lowercased()
        let wantsFast = lower.contains("fast")
        let sameTier = models.filter { $0.isFast == wantsFast }
        if let resolution = Resolution.allCases.first(where: { lower.contains($0.rawValue) }),
            let model = sameTier.first(where: { $0.resolution == resolution }) {
            return model.name
        }
        return nearestName(to: name, in: sameTier.map(\.name)) ?? nearestName(to: name, in: models.map(\.name))
    }

    /// "4, 6 or 8", "2 or 3", "16:9 or 9:16": a list of allowed values as a message says it.
    public static func spoken<T: CustomStringConvertible>(_ values: [T], joinedBy conjunction: String = "or") -> String {
        let words = values.map(\.description)
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " \(conjunction) " + words.last!
    }
}
