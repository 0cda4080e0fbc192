import Foundation
import Support

/// One generation request: exactly the API's request fields (`model`, `prompt`, `image`, …). Built only by
/// `RequestParser`, so every instance has passed validation.
public struct GenerationRequest: Sendable, Hashable {
    public var model: String
    public var prompt: String
    public var image: MediaInput?
    public var images: [MediaInput]?
    public var lastImage: MediaInput?
    public var video: MediaInput?
    public var size: String
    public var aspectRatio: String?
    public var duration: Int64?
    public var extraBody: ExtraBody

    public var mode: GenerationMode {
        if video != nil { return .extend }
        if images != nil { return .reference }
        if lastImage != nil { return .frames }
        if image != nil { return .image }
        return .text
    }

    /// Seconds of new video this request is counted as (`Capabilities.countedSeconds`): its
    /// duration, else upstream's default; an extension 7 s whatever its duration says.
    public var plannedSeconds: Int64 { Capabilities.countedSeconds(mode: mode, duration: duration) }

    /// Every media input, in field order.
    public var mediaInputs: [MediaInput] {
        [image].compactMap { $0 } + (images ?? []) + [lastImage, video].compactMap { $0 }
    }

    /// The JSON body. `media` turns each input into what is sent: by default a local file
    /// is shown as a short description (for plans); the client passes a loader that inlines it.
    public func body() -> JSONValue { body(media: { $0.displayString }) }

    public func body(media: (MediaInput) throws -> String) rethrows -> JSONValue {
        try encoded(media: { .string(try media($0)) })
    }

    /// The fields with each media input as `media` writes it: the one shape every encoding
    /// of a request (plan, journal key, journal record, wire body) is made from.
    private func encoded(media: (MediaInput) throws -> JSONValue) rethrows -> JSONValue {
        var fields: [(String, JSONValue)] = [("model", .string(model)), ("prompt", .string(prompt))]
        if let image { fields.append(("image", try media(image))) }
        if let images { fields.append(("images", .array(try images.map { try media($0) }))) }
        if let lastImage { fields.append(("last_image", try media(lastImage))) }
        if let video { fields.append(("video", try media(video))) }
        fields.append(("size", .string(size)))
        if let aspectRatio { fields.append(("aspect_ratio", .string(aspectRatio))) }
        if let duration { fields.append(("duration", .int(duration))) }
        if !extraBody.isEmpty { fields.append(("extra_body", extraBody.json)) }
        return .object(fields)
    }
}

/// The journal's record of a request: its typed fields, a local or inline input by its
/// content (`sha256`, given by the caller, who hashed it for the journal key) and, for a
/// local file, its path. Read back by `init(journaled:)`, also from rows journaled before
/// this encoding, which held the plan's display form.
extension GenerationRequest {
    /// `sha256`: the hex digest of each local or inline input's content.
    public func journaled(sha256: [MediaInput: String]) -> JSONValue {
        encoded { input in
            switch input {
            case .url(let url): .string(url)
            case .recorded(let text): .string(text)
            case .dataURI(let uri): .object([("sha256", .string(sha256[input] ?? "")), ("chars", .int(Int64(uri.count)))])
            case .localFile(let path, let mime, let bytes):
                .object([("file", .string(path)), ("mime_type", .string(mime)), ("bytes", .int(Int64(bytes))), ("sha256", .string(sha256[input] ?? ""))])
            }
        }
    }

    /// The one reading of a journaled request. Nil for a record that is not a request's.
    public init?(journaled text: String) {
        guard case .object(let fields)? = try? JSONValue.parse(Array(text.utf8)) else { return nil }
        func field(_ name: String) -> JSONValue? { fields.first { $0.0 == name }?.1 }
        guard let model = field("model")?.stringValue, let prompt = field("prompt")?.stringValue else { return nil }
        self.init(model: model, prompt: prompt, image: field("image").flatMap(MediaInput.init(journaled:)),
                  images: field("images").flatMap { if case .array(let items) = $0 { items.compactMap(MediaInput.init(journaled:)) } else { nil } },
                  lastImage: field("last_image").flatMap(MediaInput.init(journaled:)), video: field("video").flatMap(MediaInput.init(journaled:)),
                  size: field("size")?.stringValue ?? "", aspectRatio: field("aspect_ratio")?.stringValue,
                  duration: field("duration").flatMap { if case .int(let n) = $0 { n } else { nil } },
                  extraBody: ExtraBody(journaled: field("extra_body")))
    }
}

extension ExtraBody {
    init(journaled json: JSONValue?) {
        self.init()
        guard case .object(let fields)? = json else { return }
        for (key, value) in fields {
            if RequestOptions.named(key)?.placement == .extraBody { declared[key] = value } else { passthrough[key] = value }
        }
    }
}

extension MediaInput {
    init?(journaled json: JSONValue) {
        switch json {
        case .string(let text):
            // Rows journaled before the typed record showed a local file as
            // `data:MIME;base64,…(local file PATH, N bytes)`.
            if text.hasPrefix("data:"), let range = text.range(of: ";base64,…(local file "), text.hasSuffix(" bytes)"),
               let comma = text[range.upperBound...].range(of: ", ", options: .backwards),
               let bytes = Int(text[comma.upperBound...].dropLast(" bytes)".count)) {
                self = .localFile(path: String(text[range.upperBound..<comma.lowerBound]), mimeType: String(text.dropFirst(5)[..<range.lowerBound]),
                                  byteCount: bytes)
            } else if text.hasPrefix("data:") {
                self = .recorded(text)
            } else {
                self = .url(text)
            }
        case .object(let fields):
            let field = { (name: String) in fields.first { $0.0 == name }?.1 }
            if let path = field("file")?.stringValue, let mime = field("mime_type")?.stringValue, case .int(let bytes)? = field("bytes") {
                self = .localFile(path: path, mimeType: mime, byteCount: Int(bytes))
            } else if let digest = field("sha256")?.stringValue {
                self = .recorded("sha256:" + digest)
            } else {
                return nil
            }
        default:
            return nil
        }
    }
}

/// `extra_body`: the options declared to travel in it (`RequestOptions`, placement
/// `.extraBody`), checked, plus anything else passed through untouched. A new declared
/// option needs nothing here: it is read, checked, sent and journaled by its declaration.
public struct ExtraBody: Sendable, Hashable {
    /// The declared options given, by name, as checked (a string, a whole number or a flag).
    var declared: [String: JSONValue] = [:]
    public var passthrough: [String: JSONValue] = [:]

    /// The ones reel itself reads (prices, labels, file names, history).
    public var generateAudio: Bool? { if case .bool(let flag)? = declared["generate_audio"] { flag } else { nil } }
    public var negativePrompt: String? { declared["negative_prompt"]?.stringValue }
    public var seed: Int64? { if case .int(let seed)? = declared["seed"] { seed } else { nil } }

    public var isEmpty: Bool { declared.isEmpty && passthrough.isEmpty }

    /// The declared options in their declaration's order, then the others by name.
    public var json: JSONValue {
        var fields: [(String, JSONValue)] = []
        for option in RequestOptions.extraBody { if let value = declared[option.name] { fields.append((option.name, value)) } }
        for key in passthrough.keys.sorted() { fields.append((key, passthrough[key]!)) }
        return .object(fields)
    }
}

/// An image or video input: a URL is sent as it is; a local file is read at send time and
/// sent inline as a `data:` URI.
public enum MediaInput: Sendable, Hashable {
    case url(String)
    case dataURI(String)
    case localFile(path: String, mimeType: String, byteCount: Int)
    /// An inline input read back from the journal, known only by its content hash (or, in
    /// rows from before that, by a shortened copy): it can be shown, never sent again.
    case recorded(String)

    /// What a plan shows: the URL, or a short description instead of megabytes of base64.
    public var displayString: String {
        switch self {
        case .url(let u): u
        case .dataURI(let d): d.count > 64 ? String(d.prefix(48)) + "…(\(d.count) chars)" : d
        case .localFile(let path, let mime, let bytes): "data:\(mime);base64,…(local file \(path), \(bytes) bytes)"
        case .recorded(let text): text
        }
    }

    /// The string sent on the wire; reads a local file.
    public func wireString() throws -> String {
        switch self {
        case .url(let u), .dataURI(let u): return u
        case .localFile(let path, let mime, _):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RequestError(["cannot read local file '\(path)' any more"])
            }
            guard data.count <= Capabilities.maxInlineFileBytes else {
                throw RequestError(["local file '\(path)' grew past the \(Capabilities.maxInlineFileBytes >> 20) MiB inline limit"])
            }
            return "data:\(mime);base64," + data.base64EncodedString()
        case .recorded(let text):
            throw RequestError(["'\(text.prefix(80))' is a journal's record of an input, not the input itself"])
        }
    }

    static let mimeTypes: [String: String] = [
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
        "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm",
    ]
}

/// Requests that failed validation: every problem found, each a full sentence.
public struct RequestError: Error, Sendable, CustomStringConvertible, Equatable {
    public let problems: [String]
    public init(_ problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "\n") }
}
