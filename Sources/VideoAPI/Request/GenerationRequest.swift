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
        var fields: [(String, JSONValue)] = [("model", .string(model)), ("prompt", .string(prompt))]
        if let image { fields.append(("image", .string(try media(image)))) }
        if let images { fields.append(("images", .array(try images.map { .string(try media($0)) }))) }
        if let lastImage { fields.append(("last_image", .string(try media(lastImage)))) }
        if let video { fields.append(("video", .string(try media(video)))) }
        fields.append(("size", .string(size)))
        if let aspectRatio { fields.append(("aspect_ratio", .string(aspectRatio))) }
        if let duration { fields.append(("duration", .int(duration))) }
        if !extraBody.isEmpty { fields.append(("extra_body", extraBody.json)) }
        return .object(fields)
    }
}

/// `extra_body`: the three keys reel knows, plus anything else passed through untouched.
public struct ExtraBody: Sendable, Hashable {
    public var generateAudio: Bool?
    public var negativePrompt: String?
    public var seed: Int64?
    public var passthrough: [String: JSONValue] = [:]

    public var isEmpty: Bool { generateAudio == nil && negativePrompt == nil && seed == nil && passthrough.isEmpty }

    public var json: JSONValue {
        var fields: [(String, JSONValue)] = []
        if let generateAudio { fields.append(("generate_audio", .bool(generateAudio))) }
        if let negativePrompt { fields.append(("negative_prompt", .string(negativePrompt))) }
        if let seed { fields.append(("seed", .int(seed))) }
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

    /// What a plan shows: the URL, or a short description instead of megabytes of base64.
    public var displayString: String {
        switch self {
        case .url(let u): u
        case .dataURI(let d): d.count > 64 ? String(d.prefix(48)) + "…(\(d.count) chars)" : d
        case .localFile(let path, let mime, let bytes): "data:\(mime);base64,…(local file \(path), \(bytes) bytes)"
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
