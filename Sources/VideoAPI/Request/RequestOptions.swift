import Support
/// Every option a generation function accepts: its type, its allowed values or range, where
/// it travels and what it means. `RequestParser` reads and checks each option by this
/// declaration (a loop over the table, then the rules that join fields); unknown names are
/// checked against it; the editor definitions, the reference and the README's option table
/// are generated from it.
public struct RequestOption: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case string, integer, boolean, stringList, object
        /// A URL, a local path, or (from Lua) a `Video`.
        case media
        case mediaList
    }

    /// Where the option travels.
    public enum Placement: Sendable {
        /// A top-level field of the request body.
        case body
        /// Inside `extra_body`; from Lua it may also be given flat.
        case extraBody
        /// Read by reel itself and never sent.
        case local
    }

    public let name: String
    public let kind: Kind
    public let placement: Placement
    public let summary: String
    /// The allowed values, when the API fixes them.
    public let allowed: [String]
    /// Whether the parser refuses a value outside `allowed` by itself ("'duration' must be 4,
    /// 6 or 8"); false where a joint rule says more (an unknown model, a size not the model's).
    public let checksAllowed: Bool
    /// The range of a whole number (the seed).
    public let range: ClosedRange<Int64>?
    /// How many items a list needs, and what messages call them ("reference images").
    public let count: ClosedRange<Int>?
    public let itemsName: String

    init(_ name: String, _ kind: Kind, _ placement: Placement, _ summary: String, allowed: [String] = [], checksAllowed: Bool = true,
         range: ClosedRange<Int64>? = nil, count: ClosedRange<Int>? = nil, itemsName: String = "items") {
        self.name = name
        self.kind = kind
        self.placement = placement
        self.summary = summary
        self.allowed = allowed
        self.checksAllowed = checksAllowed
        self.range = range
        self.count = count
        self.itemsName = itemsName
    }
}

public enum RequestOptions {
    public static let all: [RequestOption] = [
        RequestOption("model", .string, .body, "Public model name; defaults to \(Capabilities.defaultModelName), REEL_MODEL, --model or defaults{model=…}.",
                      allowed: Capabilities.models.map(\.name), checksAllowed: false),
        RequestOption("prompt", .string, .body, "What the video shows. Required, not empty."),
        RequestOption("image", .media, .body, "Source image (image-to-video) or first frame (first-and-last-frame): an http(s) URL or a local file."),
        RequestOption("images", .mediaList, .body, "\(Capabilities.spoken(Array(Capabilities.referenceImageCount))) reference images (multi-image reference; standard models only).",
                      count: Capabilities.referenceImageCount, itemsName: "reference images"),
        RequestOption("last_image", .media, .body, "Last frame for first-and-last-frame; needs 'image'."),
        RequestOption("video", .media, .body, "Video to extend: a Video, an http(s) URL or a local file."),
        RequestOption("size", .string, .body, "Resolution; must be the model's own, and defaults to it.",
                      allowed: Resolution.allCases.map(\.rawValue), checksAllowed: false),
        RequestOption("aspect_ratio", .string, .body, "Output aspect ratio (text-to-video and reference).",
                      allowed: Capabilities.aspectRatios),
        RequestOption("duration", .integer, .body, "Seconds of video.", allowed: Capabilities.durations.map(String.init)),
        RequestOption("extra_body", .object, .body, "Extra fields: generate_audio, negative_prompt, seed, and any other key, passed through."),
        RequestOption("generate_audio", .boolean, .extraBody, "Generate an audio track."),
        RequestOption("negative_prompt", .string, .extraBody, "What the video should avoid."),
        RequestOption("seed", .integer, .extraBody, "Seed for repeatable results: a whole number from \(Capabilities.seedRange.lowerBound) to \(Capabilities.seedRange.upperBound).",
                      range: Capabilities.seedRange),
        RequestOption("fresh", .boolean, .local, "Generate anew even if the journal holds this exact request."),
        RequestOption("name", .string, .local, "The video's file name under --out, as a template of " + fileNameFields.map { "{\($0)}" }.joined(separator: ", ") + " (default {id}, or --name)."),
    ]

    /// The options that travel inside `extra_body`, in declaration order.
    public static let extraBody = all.filter { $0.placement == .extraBody }

    /// What a file-name template (`name = "{row}-{seed}-{id}"`, `--name`) may use.
    public static let fileNameFields = ["id", "n", "row", "seed", "prompt", "line", "model", "mode"]

    /// Why `template` is not a usable file-name template, or nil when it is.
    public static func fileNameProblem(_ template: String) -> String? {
        if template.isEmpty { return "is empty" }
        if template.contains("/") || template.contains("\\") { return "is a file name, not a path (--out sets the folder)" }
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { return "has a '{' without its '}'" }
            let field = String(rest[rest.index(after: open)..<close])
            if !fileNameFields.contains(field) {
                let hint = nearestName(to: field, in: fileNameFields).map { " (did you mean {\($0)}?)" } ?? ""
                return "uses {\(field)}, which is not a field\(hint); it may use " + fileNameFields.map { "{\($0)}" }.joined(separator: ", ")
            }
            rest = rest[rest.index(after: close)...]
        }
        return nil
    }

    public static func named(_ name: String) -> RequestOption? { all.first { $0.name == name } }

    /// Names accepted in a Lua options table.
    public static var luaNames: [String] { all.map(\.name) }
    /// Names accepted at the top level of a request body on the wire.
    public static var wireNames: [String] { all.filter { $0.placement == .body }.map(\.name) }
}
