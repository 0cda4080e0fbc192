import Foundation
import Support
import Synchronization
import LuaRuntime
import VideoAPI

/// reel's Lua functions: each generation function turns its options table into a validated
/// `GenerationRequest` (through the one `RequestParser`), parks its coroutine while the
/// generator works, and returns a `Video`. Every function is a global and a field of `reel`.
final class ReelLibrary {
    let generator: any VideoGenerator
    let reporter: any RunReporter
    let outputDirectory: String
    let scriptDirectory: String
    /// The model when neither the call nor `defaults{}` names one (--model, REEL_MODEL, built-in).
    let baseModel: String
    /// `--fresh`: every call generates anew.
    let freshAll: Bool
    /// Under `--sandbox`, the only folder `:save()` may write in.
    var writableDirectory: String?
    /// Under --sandbox, the folders local inputs (`image = "ref.png"`) may come from, as for
    /// the script's own reads: a sandboxed script cannot send ~/.ssh/id_rsa as an image.
    var readableDirectories: [String]?
    /// `--concurrency`: generations in flight across the run.
    var generationConcurrency: Int?
    private var warnedAboutMapConcurrency = false
    /// The run's cap on seconds submitted (`--max-seconds`, `budget{}`).
    var budget = Budget()
    /// With `reportEveryInvalidCall`: the refused calls, answered with stand-ins.
    var invalidCalls: InvalidCallLog?
    /// Generation calls made so far (only the Lua owner touches it).
    private var callCount = 0
    /// Options set by `defaults{…}`, applied under each call's own.
    private var defaults: [(String, JSONValue)] = []
    /// Videos this run made, by id: a URL a script passes as a string is traced to its step.
    private let videos = VideoRegistry()
    private var warned: Set<String> = []
    /// `row 3: animal=fox place=dunes` or `subject=lighthouse`: what each take records it was given.
    private var takeArguments: String?
    /// The --each row this script runs for, if any.
    private var row: String?
    /// `--name`: the file-name template for every take (a call's `name` wins).
    var fileNameTemplate: String?

    init(generator: any VideoGenerator, reporter: any RunReporter, outputDirectory: String, scriptDirectory: String, baseModel: String,
         freshAll: Bool = false) {
        self.freshAll = freshAll
        self.generator = generator
        self.reporter = reporter
        self.outputDirectory = outputDirectory
        self.scriptDirectory = scriptDirectory
        self.baseModel = baseModel
    }

    /// How a function is carried out: by this library, or by the runtime's prelude (then
    /// only copied into `reel`).
    enum Binding {
        case host(HostFunction)
        case runtime
    }

    /// Each function's implementation: a function without one does not compile.
    func binding(of function: LuaFunction) -> Binding {
        switch function {
        case .generation(.extend): .host { [unowned self] call in try extend(call) }
        case .generation(let mode): .host { [unowned self] call in try generation(call, mode: mode, options: try call.argument(1)) }
        case .library(.generate): .host { [unowned self] call in try generation(call, mode: nil, options: try call.argument(1)) }
        case .library(.lastFrame): .host { [unowned self] call in try lastFrame(call) }
        case .library(.frame): .host { [unowned self] call in try frame(call) }
        case .library(.concat): .host { [unowned self] call in try concat(call) }
        case .library(.trim): .host { [unowned self] call in try trim(call) }
        case .library(.seams): .host { [unowned self] call in try seams(call) }
        case .library(.defaults): .host { [unowned self] call in try setDefaults(call) }
        case .library(.budget): .host { [unowned self] call in try setBudget(call) }
        case .library(.log): .host { [unowned self] call in
            let parts = try call.arguments.map(Self.display)
            reporter.log("[log] " + parts.joined(separator: "\t"))
            return .none
        }
        case .library(.fmt): .host { call in .value(.string(try Self.format(call))) }
        case .library(.map), .library(.parallel), .library(.spawn), .library(.sleep): .runtime
        }
    }

    func install(into lua: LuaState, arguments: [String: String]) {
        let pairs = arguments.filter { $0.key != "_row" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        row = arguments["_row"]
        if let row = arguments["_row"] { takeArguments = "row \(row)" + (pairs.isEmpty ? "" : ": " + pairs) } else if !pairs.isEmpty { takeArguments = pairs }
        for function in LuaFunction.allCases {
            switch binding(of: function) {
            case .host(let body): lua.register(function.name, in: "reel", body)
            case .runtime: lua.copyGlobal(function.name, into: "reel")
            }
        }
        lua.registerObjectType(LuaVideo.typeName, methods: [
            "save": { [unowned self] call in try save(call) },
            "info": { [unowned self] call in try info(call) },
        ], field: LuaVideo.field, fields: LuaVideo.allFields, tostring: LuaVideo.tostring, readOnlyMessage: LuaVideo.readOnlyMessage)
        lua.registerObjectType(LuaImage.typeName, methods: [:], field: LuaImage.field, fields: LuaImage.allFields,
                               tostring: LuaImage.tostring, readOnlyMessage: LuaImage.readOnlyMessage)
        // The runtime's functions with options (map) are checked against their declarations here.
        lua.optionChecker = { [unowned self] name, value, argument, position in
            let declared = LuaFunction(name: name).map { LuaAPI.function($0).declaredOptions } ?? []
            let options = try LuaOption.check(value, of: name, argument: argument, against: declared)
            if name == LuaFunction.library(.map).name, case .integer(let limit) = options["concurrency"] {
                noteMapConcurrency(Int(limit), at: position)
            }
            return .table(options.table)
        }

        let args = LuaValue.table(LuaTable(fields: arguments.mapValues(LuaValue.string)))
        lua.setGlobal("args", args)
        lua.copyGlobal("args", into: "reel")
        lua.preload(module: "reel", table: "reel")
    }

    /// A map's limit above the run's --concurrency is said once: generations stay capped.
    private func noteMapConcurrency(_ limit: Int, at position: String?) {
        guard let cap = generationConcurrency, limit > cap, !warnedAboutMapConcurrency else { return }
        warnedAboutMapConcurrency = true
        warnOnce("map: concurrency = \(limit) is above this run's --concurrency \(cap), so at most \(cap) generations run at once (raise --concurrency to allow more)",
                 at: position)
    }

    // MARK: Generation

    private func generation(_ call: LuaCall, mode: GenerationMode?, options: LuaValue, source: GeneratedVideo? = nil) throws -> HostResult {
        let caller = mode?.luaFunction ?? LuaFunction.library(.generate).name
        let positional = mode?.positionalField
        var given = try optionList(options, caller: caller, argument: positional == nil ? 1 : 2)
        if let source, let positional {
            if given.contains(where: { $0.0 == positional }) {
                throw ReelLuaError(.invalidRequest, "\(caller): give the \(positional) once, as the first argument")
            }
            // A generation by its URL; a video made here (concat, trim) as its file.
            given.append((positional, .string(source.url ?? source.localPath.map(LuaVideo.absolute) ?? "")))
        }
        // Call options win over defaults{}; extend falls back to its source video's model.
        var merged = defaults.filter { name, _ in !given.contains { $0.0 == name } }
        if let source, !given.contains(where: { $0.0 == "model" }) {
            merged.removeAll { $0.0 == "model" }
            merged.append(("model", .string(source.request.model)))
        }
        merged += given
        let parser = RequestParser(caller: caller, expectedMode: mode, defaultModel: baseModel, source: .lua(baseDirectory: scriptDirectory))
        let parsed: RequestParser.Parsed
        do {
            parsed = try parser.parse(merged)
        } catch {
            let message = error.problems.joined(separator: "\n  ")
            guard let invalidCalls else { throw ReelLuaError(.invalidRequest, message) }
            // Checking: note it at its line and carry on with a stand-in, so later calls
            // (an extend of this one included) are checked too.
            return .value(LuaVideo.make(invalidCalls.record(call.position.map { "\($0): \(message)" } ?? message)))
        }
        // A warning about an option that came from defaults{} is said once, not at every call
        // that inherits it.
        let inherited = merged.map(\.0).filter { name in !given.contains { $0.0 == name } }
        for warning in parsed.warnings {
            let fromDefaults = inherited.contains { warning.contains("'\($0)'") }
            warnOnce(fromDefaults ? warning + " (set by defaults{})" : warning, at: fromDefaults ? nil : call.position)
        }

        let generator = self.generator
        let request = parsed.request
        if let roots = readableDirectories {
            for case .localFile(let path, _, _) in request.mediaInputs where !LuaState.isInside(LuaState.resolvedPath(path), roots) {
                throw ReelLuaError(.invalidRequest, "\(caller): '\(path)': --sandbox allows local inputs only from \(roots.joined(separator: ", "))")
            }
        }
        // An input that is a Video carries its own journal key (its URL may change between
        // runs); a URL string of a video this run made is looked up by URL.
        var inputKeys = videos.journalKeys(for: request.mediaInputs)
        for input in [source] + Self.videos(in: options) {
            if let input, let url = input.url, let key = input.journalKey { inputKeys[url] = key }
        }
        callCount += 1
        var generationOptions = GenerationOptions(fresh: parsed.fresh || freshAll, inputKeys: inputKeys, callSite: call.position, sequence: callCount,
                                        arguments: takeArguments,
                                        fileName: (parsed.name ?? fileNameTemplate).map {
                                            FileName(template: $0, request: request, sequence: callCount, row: row, callSite: call.position)
                                        })
        generationOptions.script = ObjectIdentifier(self).hashValue
        let options = generationOptions
        let videos = self.videos
        return .wait {
            // The error and the Lua value are made in plain functions: this frame stays
            // allocated for as long as the generation waits (README, Performance).
            do {
                return Self.finished(try await generator.generate(request, options: options), callSite: options.callSite, in: videos)
            } catch {
                throw Self.generationError(error, caller: caller)
            }
        }
    }

    /// A generation's Video, once it has one.
    private static func finished(_ video: GeneratedVideo, callSite: String?, in videos: VideoRegistry) -> [LuaValue] {
        videos.insert(video)
        return [LuaVideo.make(video, label: TakeLabel.make(video.request, callSite: callSite))]
    }

    /// What a failed generation raises in the script: the API's error named by its caller.
    private static func generationError(_ error: any Error, caller: String) -> any Error {
        if let error = error as? VideoAPIError {
            var prefixed = error
            prefixed.message = "\(caller): \(error.message)"
            return ReelLuaError(prefixed)
        }
        if error is CancellationError { return ReelLuaError(.cancelled, "\(caller): cancelled") }
        return error
    }

    /// The Videos among an options table's values (`generate{ video = v }`).
    static func videos(in options: LuaValue) -> [GeneratedVideo] {
        guard case .table(let t) = options else { return [] }
        return t.entries.values.compactMap(LuaVideo.video(in:))
    }

    /// `extend(video, opts)`: the first argument is a Video, a URL or a local file.
    private func extend(_ call: LuaCall) throws -> HostResult {
        let first = try call.argument(1)
        var options = try call.argument(2)
        switch first {
        case .userdata where LuaVideo.video(in: first) != nil:
            return try generation(call, mode: .extend, options: options, source: LuaVideo.video(in: first))
        case .string(let location):
            if case .table(var t) = options {
                if !t["video"].isNil { throw ReelLuaError(.invalidRequest, "extend: give the video once, as the first argument") }
                t["video"] = .string(location)
                options = .table(t)
            } else if options.isNil || options.stringValue != nil {
                var t = LuaTable(fields: ["video": .string(location)])
                if let prompt = options.stringValue { t["prompt"] = .string(prompt) }
                options = .table(t)
            }
            return try generation(call, mode: .extend, options: options)
        default:
            throw ReelLuaError(.invalidRequest, "extend: the first argument must be a Video or a URL (got \(first.typeName))")
        }
    }

    /// The options table as (name, JSON) pairs; a bare string is the prompt.
    private func optionList(_ value: LuaValue, caller: String, argument: Int) throws -> [(String, JSONValue)] {
        let table: LuaTable
        switch value {
        case .string: table = LuaTable(fields: ["prompt": value])
        case .table(let t): table = t
        case .nil: throw ReelLuaError(.invalidRequest, "\(caller): expected an options table, e.g. \(caller){ prompt = \"…\" }")
        default: throw ReelLuaError(.invalidRequest, "\(caller): argument \(argument) must be an options table (got \(value.typeName))")
        }
        var out: [(String, JSONValue)] = []
        // In name order (each key's text made once, not once per comparison).
        let named = table.entries.map { (order: Self.sortKey($0.key), entry: $0) }.sorted { $0.order < $1.order }
        for (key, item) in named.map(\.entry) {
            guard case .string(let name) = key else {
                throw ReelLuaError(.invalidRequest, "\(caller): options must be named (got a list item at \(LuaJSON.describe(key))); write \(caller){ prompt = \"…\" }")
            }
            do {
                if let json = try LuaJSON.json(from: item, path: name) { out.append((name, json)) }
            } catch let error as LuaJSON.ConversionError {
                throw ReelLuaError(.invalidRequest, "\(caller): \(error.message)")
            }
        }
        return out
    }

    /// Names in order; a key that is not a name sorts first, so its error is the one reported.
    private static func sortKey(_ key: LuaValue) -> String {
        if case .string(let name) = key { return "\u{1}" + name }
        return "\u{0}\(key)"
    }

    private func setDefaults(_ call: LuaCall) throws -> HostResult {
        let value = try call.argument(1)
        if value.isNil {
            return .value(LuaJSON.lua(from: .object(defaults)))
        }
        let options = try optionList(value, caller: "defaults", argument: 1)
        let known = RequestOptions.luaNames
        for (name, _) in options where !known.contains(name) {
            let hint = nearestName(to: name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
            throw ReelLuaError(.invalidRequest, "defaults: unknown option '\(name)'\(hint)")
        }
        if case .string(let model) = options.first(where: { $0.0 == "model" })?.1, Capabilities.model(named: model) == nil {
            // The hint a call's `model = …` gets: same tier, same resolution.
            let hint = Capabilities.suggestion(forModel: model).map { "did you mean '\($0)'? " } ?? ""
            throw ReelLuaError(.invalidRequest, "defaults: unknown model '\(model)' (\(hint)see `reel models`)")
        }
        for (name, json) in options {
            defaults.removeAll { $0.0 == name }
            defaults.append((name, json))
        }
        return .none
    }

    /// `budget{ seconds = N }` lowers the run's cap; `budget()` returns `{ seconds = cap, used = n }`.
    private func setBudget(_ call: LuaCall) throws -> HostResult {
        let function = LuaAPI.function(.library(.budget))
        let options = try LuaOption.check(try call.argument(1), of: function.name, argument: 1, against: function.declaredOptions)
        if case .integer(let seconds) = options["seconds"] { budget.limit(to: seconds) }
        var fields: [String: LuaValue] = ["used": .integer(budget.used)]
        if let cap = budget.maxSeconds { fields["seconds"] = .integer(cap) }
        return .value(.table(LuaTable(fields: fields)))
    }

    // MARK: Video methods

    private func video(from call: LuaCall, method: String) throws -> GeneratedVideo {
        guard let video = LuaVideo.video(in: try call.argument(1)) else {
            throw ReelLuaError(.invalidRequest, "Video:\(method): call it on a Video, as video:\(method)(…)")
        }
        return video
    }

    private func save(_ call: LuaCall) throws -> HostResult {
        let video = try video(from: call, method: "save")
        let path: String
        switch try call.argument(2) {
        case .nil: path = LuaVideo.absolute(video.localPath ?? (outputDirectory as NSString).appendingPathComponent(Self.fileName(forID: video.id)))
        // The one rule for paths a script gives: relative to the script's folder.
        case .string(let p) where !p.isEmpty: path = resolvedScriptPath(p)
        case .string: throw ReelLuaError(.invalidRequest, "Video:save: the path is empty (give a file name, or nothing for the default under --out)")
        case let other: throw ReelLuaError(.invalidRequest, "Video:save: the path must be a string (got \(other.typeName))")
        }
        if let root = writableDirectory {
            let resolved = LuaState.resolvedPath(path)
            guard resolved == root || resolved.hasPrefix(root + "/") else {
                throw ReelLuaError(.invalidRequest, "Video:save: --sandbox allows saving only under \(root) (got \(path))")
            }
        }
        let generator = self.generator
        return .wait {
            do {
                return [.string(try await generator.save(video, to: path))]
            } catch let error as VideoAPIError {
                var prefixed = error
                prefixed.message = "Video:save: \(error.message)"
                throw ReelLuaError(prefixed)
            }
        }
    }

    private func info(_ call: LuaCall) throws -> HostResult {
        let video = try video(from: call, method: "info")
        let generator = self.generator
        return .wait {
            do {
                return [LuaJSON.lua(from: .object(try await generator.info(video)))]
            } catch let error as VideoAPIError {
                throw ReelLuaError(error)
            }
        }
    }

    /// `<id>.mp4`, with anything unsafe for a file name replaced.
    static func fileName(forID id: String) -> String { FileName.idPart(id) + ".mp4" }

    private func warnOnce(_ warning: String, at position: String?) {
        let line = position.map { "\($0): \(warning)" } ?? warning
        if warned.insert(line).inserted { reporter.warning(line) }
    }

    /// `fmt("a {animal} at {time}", row)`: each `{name}` replaced by `tostring(row.name)`;
    /// `{{` and `}}` are literal braces. A name the table lacks is an error, not a blank.
    static func format(_ call: LuaCall) throws -> String {
        guard case .string(let template) = try call.argument(1) else {
            throw LuaErrorTable("fmt: the template must be a string (got \(try call.argument(1).typeName))")
        }
        let values: LuaTable
        switch try call.argument(2) {
        case .table(let t): values = t
        case .nil: values = LuaTable()
        case let other: throw LuaErrorTable("fmt: the values must be a table (got \(other.typeName))")
        }
        var out = ""
        var rest = Substring(template)
        while let c = rest.popFirst() {
            switch c {
            case "{" where rest.first == "{": rest.removeFirst(); out.append("{")
            case "}" where rest.first == "}": rest.removeFirst(); out.append("}")
            case "{":
                guard let close = rest.firstIndex(of: "}") else { throw LuaErrorTable("fmt: a '{' is never closed (write {{ for a literal brace)") }
                let name = String(rest[..<close])
                rest = rest[rest.index(after: close)...]
                let value = values[name]
                switch value {
                case .string(let s): out += s
                case .integer, .number, .boolean: out += display(value)
                case .nil:
                    let known = values.stringKeys
                    throw LuaErrorTable("fmt: no value for {\(name)}" + (known.isEmpty ? "" : " (the table has \(known.joined(separator: ", ")))"))
                default:
                    throw LuaErrorTable("fmt: {\(name)} is a \(value.typeName), not text")
                }
            case "}": throw LuaErrorTable("fmt: a '}' without its '{' (write }} for a literal brace)")
            default: out.append(c)
            }
        }
        return out
    }

    static func display(_ value: LuaValue) -> String {
        switch value {
        case .nil: "nil"
        case .boolean(let b): b ? "true" : "false"
        case .integer(let i): String(i)
        case .number(let d): String(d)
        case .string(let s): s
        case .table(let t): LuaJSON.tryJSON(t)
        case .userdata(let u):
            if let handle = u.object as? LuaVideo.Handle { LuaVideo.describe(handle.video, withFile: true) }
            else if let image = u.object as? LuaImage.Handle { "Image(\(image.output.step.function), path=\(image.location))" }
            else { u.metatable }
        case .opaque(let name): name
        }
    }
}

/// The videos a run has made, so a URL string a script passes (`v.url`) is keyed by the
/// step that made it; a Video passed as itself carries its key.
final class VideoRegistry: Sendable {
    private let byID = Mutex<[String: GeneratedVideo]>([:])

    func insert(_ video: GeneratedVideo) {
        byID.withLock { $0[video.id] = video }
    }

    /// For each input that is the URL of a video made here, that video's journal key.
    func journalKeys(for inputs: [MediaInput]) -> [String: String] {
        byID.withLock { byID in
            var keys: [String: String] = [:]
            for case .url(let url) in inputs {
                if let key = byID.values.first(where: { $0.url == url })?.journalKey { keys[url] = key }
            }
            return keys
        }
    }
}

/// The calls a check refused, and the stand-in Video each one gets so the script goes on.
final class InvalidCallLog: Sendable {
    private let log = Mutex<[String]>([])

    var messages: [String] { log.withLock { $0 } }

    /// Notes `message` and returns the stand-in for the refused call.
    func record(_ message: String) -> GeneratedVideo {
        let n = log.withLock {
            $0.append(message)
            return $0.count
        }
        let id = "invalid-\(n)"
        // A valid request in its place, so an extend of the stand-in is checked as usual.
        let request = try! RequestParser(caller: "check", expectedMode: .text, source: .wire).parse([("prompt", "(a refused call)")]).request
        return GeneratedVideo(id: id, url: "https://dry-run.invalid/videos/\(id).mp4", status: .invalid, request: request)
    }
}
