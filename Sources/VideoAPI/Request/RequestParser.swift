import Foundation
import Support

/// Turns options (from a Lua table, or a JSON body on the wire) into a `GenerationRequest`,
/// applying every rule of `Capabilities` and `RequestOptions` before anything is sent. The Lua functions, the dry
/// run and the simulator all come through here.
public struct RequestParser: Sendable {
    /// Where the options came from, which decides what is allowed.
    public enum Source: Sendable {
        /// A Lua call: flat extras, local files and reel's own options are allowed.
        case lua(baseDirectory: String)
        /// A JSON request body: only the API's fields; media must be URLs or data: URIs.
        case wire
    }

    /// The function name errors start with (`text_to_video`, or `request` on the wire).
    public var caller: String
    /// The mode the caller makes; nil for `generate`, which infers it.
    public var expectedMode: GenerationMode?
    public var defaultModel: String
    public var source: Source

    public init(caller: String, expectedMode: GenerationMode?, defaultModel: String = Capabilities.defaultModelName, source: Source) {
        self.caller = caller
        self.expectedMode = expectedMode
        self.defaultModel = defaultModel
        self.source = source
    }

    /// A valid request, the warnings that go with it, and reel's own options.
    public struct Parsed: Sendable {
        public var request: GenerationRequest
        public var warnings: [String]
        public var fresh: Bool
        /// The file-name template the call gave (`name = "…"`).
        public var name: String? = nil
    }

    public func parse(_ options: [(String, JSONValue)]) throws(RequestError) -> Parsed {
        var checker = Checker(caller: caller, options: options)
        // From Lua, `duration = args.dur` works: script arguments and CSV cells are strings.
        if case .lua = source { checker.acceptsNumericStrings = true }
        let isLua: Bool
        if case .lua = source { isLua = true } else { isLua = false }

        let accepted = isLua ? RequestOptions.luaNames : RequestOptions.wireNames
        for (name, _) in options where !accepted.contains(name) {
            let hint = nearestName(to: name, in: accepted).map { " (did you mean '\($0)'?)" } ?? ""
            checker.fail("unknown option '\(name)'\(hint)")
        }

        // Every option by its declaration in `RequestOptions`: its type, and its allowed values,
        // range or count. What joins fields (a model's size and modes, one input family,
        // last_image with image) follows.
        var read: [String: Checked] = [:]
        for option in RequestOptions.all where option.kind != .object && accepted.contains(option.name) {
            guard let raw = checker.value(option.name) else { continue }
            if let value = checker.read(option, option.name, raw, source: source) { read[option.name] = value }
        }
        var extra = ExtraBody()
        if let body = checker.value("extra_body") {
            switch body {
            case .object(let fields):
                for (key, value) in fields {
                    if let option = RequestOptions.named(key), option.placement == .extraBody {
                        extra.set(checker.read(option, "extra_body.\(key)", value, source: source), for: key)
                    } else {
                        extra.passthrough[key] = value
                    }
                }
            case .array(let items) where items.isEmpty:
                break  // an empty Lua table
            default:
                checker.fail("'extra_body' must be a table of fields (got \(body.typeName))")
            }
        }
        // From Lua the extras may also come flat; given both ways they must agree.
        for option in RequestOptions.all where option.placement == .extraBody {
            guard let flat = read[option.name] else { continue }
            if let nested = extra.value(for: option.name), nested != flat {
                checker.fail("'\(option.name)' is given twice with different values (flat and in extra_body)")
            }
            extra.set(flat, for: option.name)
        }

        let modelName = read["model"]?.string ?? defaultModel
        let model = Capabilities.model(named: modelName)
        if model == nil {
            let hint = Capabilities.suggestion(forModel: modelName).map { "did you mean '\($0)'? " } ?? ""
            checker.fail("unknown model '\(modelName)' (\(hint)see `reel models`)")
        }

        let prompt = read["prompt"]?.string
        if checker.value("prompt") == nil {
            checker.fail("'prompt' is required")
        } else if let prompt, prompt.allSatisfy(\.isWhitespace) {
            checker.fail("'prompt' must not be empty")
        }

        let image = read["image"]?.media
        let lastImage = read["last_image"]?.media
        let video = read["video"]?.media
        let images = read["images"]?.mediaList
        let families = [("image", image != nil || lastImage != nil), ("images", images != nil), ("video", video != nil)]
            .filter(\.1).map(\.0)
        if families.count > 1 {
            checker.fail("give only one of 'image', 'images' or 'video' (got \(families.map { "'\($0)'" }.joined(separator: " and ")))")
        }
        if lastImage != nil && image == nil && images == nil && video == nil {
            checker.fail("'last_image' needs 'image' (the first frame)")
        }

        let size = read["size"]?.string
        let aspectRatio = read["aspect_ratio"]?.string
        let duration = read["duration"]?.integer
        let fresh = read["fresh"]?.boolean ?? false
        let name = read["name"]?.string
        if let name, let problem = RequestOptions.fileNameProblem(name) { checker.fail("'name' \(problem)") }

        var request = GenerationRequest(
            model: modelName, prompt: prompt ?? "", image: image, images: images, lastImage: lastImage, video: video,
            size: size ?? model?.resolution.rawValue ?? "", aspectRatio: aspectRatio, duration: duration, extraBody: extra)

        let mode = request.mode
        if let expectedMode {
            checkFields(for: expectedMode, against: mode, request: request, checker: &checker)
        }
        if let model {
            if let size, size != model.resolution.rawValue {
                checker.fail("'size' must be \(model.resolution.rawValue) for \(model.name) (got \(size)); leave it out to use the model's own")
            }
            if !model.supports(mode) {
                let alternative = Capabilities.models.first { !$0.isFast && $0.resolution == model.resolution }!.name
                checker.fail("\(model.name) cannot do \(mode.title) (\(mode == .reference ? "'images'" : mode.luaFunction)); use \(alternative)")
            }
            request.size = model.resolution.rawValue
        }
        if !checker.problems.isEmpty { throw RequestError(checker.problems) }
        return Parsed(request: request, warnings: Self.warnings(for: request, caller: caller), fresh: fresh, name: name)
    }

    /// "2 or 3".
    static var referenceCount: String { Capabilities.spoken(Array(Capabilities.referenceImageCount)) }

    /// A mode-specific function refuses the other modes' inputs and requires its own.
    private func checkFields(for expected: GenerationMode, against actual: GenerationMode, request: GenerationRequest, checker: inout Checker) {
        let allowed = Set(expected.mediaFields)
        for name in GenerationMode.allMediaFields where checker.value(name) != nil && !allowed.contains(name) {
            // The function that does take this input (image with last_image: frames).
            let owner = GenerationMode.allCases.first { mode in
                mode.mediaFields.contains(name)
                    && (name != "image" || (checker.value("last_image") != nil) == (mode == .frames))
            }
            checker.fail("'\(name)' is not an option of \(caller)\(owner.map { " (use \($0.luaFunction))" } ?? "")")
        }
        for name in expected.mediaFields where checker.value(name) == nil {
            checker.fail("'\(name)' is required")
        }
    }

    /// Rules upstream Veo documents but the gateway's own examples break: warn, don't refuse.
    static func warnings(for request: GenerationRequest, caller: String) -> [String] {
        var out: [String] = []
        let mode = request.mode
        let model = Capabilities.model(named: request.model)
        if mode == .extend {
            if let model, model.resolution != Capabilities.extensionResolution {
                out.append("\(caller): extension is \(Capabilities.extensionResolution.rawValue)-only upstream; \(model.name) may refuse it")
            }
            if request.duration != nil {
                out.append("\(caller): an extension adds \(Capabilities.extensionAddsSeconds) s upstream whatever 'duration' says; reel counts it as \(Capabilities.extensionAddsSeconds) s")
            }
        }
        if let duration = request.duration, duration != Capabilities.eightSecondOnlyLength {
            var reasons: [String] = []
            if let model, model.resolution != .p720 { reasons.append(model.resolution.rawValue) }
            if Capabilities.eightSecondOnlyModes.contains(mode) { reasons.append(mode.warningName) }
            if !reasons.isEmpty {
                out.append("\(caller): upstream Veo makes \(reasons.joined(separator: ", ")) videos \(Capabilities.eightSecondOnlyLength) s only; duration \(duration) may be refused")
            }
        }
        if request.aspectRatio != nil, Capabilities.aspectRatioIgnoredModes.contains(mode) {
            out.append("\(caller): 'aspect_ratio' is ignored for \(mode.title) upstream")
        }
        return out
    }
}

/// An option's value once its declaration has checked it.
enum Checked: Equatable {
    case string(String), integer(Int64), boolean(Bool), media(MediaInput), mediaList([MediaInput])

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var integer: Int64? { if case .integer(let i) = self { i } else { nil } }
    var boolean: Bool? { if case .boolean(let b) = self { b } else { nil } }
    var media: MediaInput? { if case .media(let m) = self { m } else { nil } }
    var mediaList: [MediaInput]? { if case .mediaList(let l) = self { l } else { nil } }
}

extension ExtraBody {
    /// The declared option `name`, as a checked value.
    func value(for name: String) -> Checked? {
        switch declared[name] {
        case .string(let text)?: .string(text)
        case .int(let number)?: .integer(number)
        case .bool(let flag)?: .boolean(flag)
        default: nil
        }
    }

    mutating func set(_ value: Checked?, for name: String) {
        switch value {
        case .string(let text)?: declared[name] = .string(text)
        case .integer(let number)?: declared[name] = .int(number)
        case .boolean(let flag)?: declared[name] = .bool(flag)
        default: break
        }
    }
}

/// Reads typed options and collects every problem instead of stopping at the first.
private struct Checker {
    let caller: String
    let options: [String: JSONValue]
    var problems: [String] = []
    /// Whether "6" stands for 6 in a flat option (Lua: `args` and CSV cells are strings);
    /// never inside `extra_body`, which is the wire's own shape, and never on the wire.
    var acceptsNumericStrings = false

    init(caller: String, options: [(String, JSONValue)]) {
        self.caller = caller
        self.options = Dictionary(options, uniquingKeysWith: { a, _ in a })
    }

    mutating func fail(_ message: String) { problems.append("\(caller): \(message)") }

    func value(_ name: String) -> JSONValue? {
        guard let v = options[name], v != .null else { return nil }
        return v
    }

    mutating func string(_ name: String, _ v: JSONValue) -> String? {
        guard case .string(let s) = v else {
            fail("'\(name)' must be a string (got \(v.typeName))")
            return nil
        }
        // A NUL ends text for SQLite's and C's string calls: the journal would keep part of the
        // prompt, and a request made again from it would be another request.
        if let nul = s.unicodeScalars.firstIndex(of: "\0") {
            let position = s.unicodeScalars.distance(from: s.unicodeScalars.startIndex, to: nul) + 1
            fail("'\(name)' contains a NUL character (\\0, character \(position)), which no text sent to the gateway may hold; remove it")
            return nil
        }
        return s
    }

    mutating func boolean(_ name: String, _ v: JSONValue) -> Bool? {
        guard case .bool(let b) = v else {
            fail("'\(name)' must be true or false (got \(v.typeName))")
            return nil
        }
        return b
    }

    mutating func integer(_ name: String, _ v: JSONValue) -> Int64? {
        if acceptsNumericStrings, !name.hasPrefix("extra_body."), case .string(let s) = v, let i = Int64(s.trimmingCharacters(in: .whitespaces)) {
            return i
        }
        switch v {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: return Int64(d)
        case .double(let d):
            fail("'\(name)' must be a whole number (got \(d))")
        default:
            fail("'\(name)' must be a number (got \(v.typeName)\(v.stringValue.map { " \"\($0)\"" } ?? ""))")
        }
        return nil
    }

    /// One option's value, read as its declaration says: the type, then the allowed values,
    /// range or count. Nil (with the problem noted) when it does not fit.
    mutating func read(_ option: RequestOption, _ label: String, _ raw: JSONValue, source: RequestParser.Source) -> Checked? {
        switch option.kind {
        case .string:
            guard let s = string(label, raw) else { return nil }
            if option.checksAllowed && !option.allowed.isEmpty && !option.allowed.contains(s) {
                fail("'\(label)' must be \(Capabilities.spoken(option.allowed)) (got \(s))")
                return nil
            }
            return .string(s)
        case .integer:
            // A ranged number (the seed) is never a float, not even 7.0.
            if option.range != nil, case .double(let d) = raw {
                fail("'\(label)' must be a whole number (got \(d))")
                return nil
            }
            guard let i = integer(label, raw) else { return nil }
            if let range = option.range, !range.contains(i) {
                fail("'\(label)' must be from \(range.lowerBound) to \(range.upperBound) (got \(i))")
                return nil
            }
            if option.checksAllowed && !option.allowed.isEmpty && !option.allowed.contains(String(i)) {
                fail("'\(label)' must be \(Capabilities.spoken(option.allowed)) (got \(i))")
                return nil
            }
            return .integer(i)
        case .boolean:
            return boolean(label, raw).map(Checked.boolean)
        case .media:
            return media(label, raw, source: source).map(Checked.media)
        case .mediaList:
            let spokenCount = option.count.map { Capabilities.spoken(Array($0)) + " " } ?? ""
            guard case .array(let items) = raw else {
                fail("'\(label)' must be a list of \(spokenCount)\(option.itemsName) (got \(raw.typeName))")
                return nil
            }
            let list = items.enumerated().compactMap { i, item in media("\(label)[\(i + 1)]", item, source: source) }
            if let count = option.count, !count.contains(items.count) {
                fail("'\(label)' needs \(spokenCount)\(option.itemsName) (got \(items.count))")
            }
            return .mediaList(list)
        case .stringList, .object:
            return nil
        }
    }

    mutating func media(_ name: String, _ v: JSONValue, source: RequestParser.Source) -> MediaInput? {
        guard let text = string(name, v) else { return nil }
        let lower = text.lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") { return .url(text) }
        if lower.hasPrefix("data:") { return .dataURI(text) }
        guard case .lua(let base) = source else {
            fail("'\(name)' must be an http(s) URL or a data: URI (got \(text.prefix(60)))")
            return nil
        }
        if text.isEmpty {
            fail("'\(name)' must be a URL or a local file (got an empty string)")
            return nil
        }
        let path = text.hasPrefix("/") ? text : (base as NSString).appendingPathComponent(text)
        let ext = (path as NSString).pathExtension.lowercased()
        guard let mime = MediaInput.mimeTypes[ext] else {
            fail("'\(name)': cannot tell the type of '\(text)' (use a file ending in \(MediaInput.mimeTypes.keys.sorted().map { "." + $0 }.joined(separator: ", ")))")
            return nil
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            fail("'\(name)': no such file '\(text)' (give an http(s) URL or a path relative to the script)")
            return nil
        }
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
        guard bytes <= Capabilities.maxInlineFileBytes else {
            fail("'\(name)': '\(text)' is \(bytes >> 20) MiB; local files are sent inline and may be at most \(Capabilities.maxInlineFileBytes >> 20) MiB (upload it and give its URL instead)")
            return nil
        }
        return .localFile(path: path, mimeType: mime, byteCount: bytes)
    }
}
