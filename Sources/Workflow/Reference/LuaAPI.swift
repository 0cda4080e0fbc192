import VideoAPI

/// reel's Lua API described once: one declaration per function (`declaration(of:)`), from
/// which the library's option checks, the editor definitions (LuaLS), the reference page,
/// `.luacheckrc`, REPL completion and the CLI help are made; generation functions' options
/// come from `RequestOptions` / `Capabilities`.
public enum LuaAPI {
    public struct Parameter: Sendable {
        public let name: String
        /// A LuaLS type expression.
        public let type: String
        public let summary: String
    }

    /// What a function's options table takes.
    public enum Options: Sendable {
        case none
        /// The request options of a mode (nil: every one, `generate`'s), checked by the request parser.
        case request(GenerationMode?)
        /// Its own options, checked by `LuaOption.check`.
        case declared([LuaOption])
    }

    /// The options table as a parameter: after the positional ones.
    public struct OptionsParameter: Sendable {
        let summary: String
        /// A bare string stands for the prompt (`text_to_video "a boat"`).
        var orPrompt = false
        var optional = false
    }

    public struct Function: Sendable {
        public let function: LuaFunction
        public let summary: String
        /// The positional parameters; `parameters` adds the options table.
        let positional: [Parameter]
        public let options: Options
        let optionsParameter: OptionsParameter?
        public let returns: Parameter?
        public let example: String

        public var name: String { function.name }

        /// Every parameter, the options table (typed by its class) last.
        public var parameters: [Parameter] {
            guard let table = optionsParameter else { return positional }
            let type = LuaAPI.optionsClass(of: self) + (table.orPrompt ? "|string" : "") + (table.optional ? "?" : "")
            return positional + [Parameter(name: "opts", type: type, summary: table.summary)]
        }

        /// The declared options (none for generation functions, whose options are the request's).
        public var declaredOptions: [LuaOption] {
            if case .declared(let options) = options { return options }
            return []
        }
    }

    /// The options class name of a generation function's table.
    public static func optionsClass(for mode: GenerationMode?) -> String {
        className(mode?.luaFunction ?? LuaFunction.library(.generate).name)
    }

    /// The LuaLS class of a function's options table.
    public static func optionsClass(of function: Function) -> String {
        switch function.options {
        case .request(let mode): optionsClass(for: mode)
        case .none, .declared: className(function.name)
        }
    }

    /// `text_to_video` → `reel.TextToVideoOptions`.
    private static func className(_ function: String) -> String {
        let words = function.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }
        return "reel.\(words.joined())Options"
    }

    /// The options a generation function's table accepts: every request option except the
    /// other modes' inputs and its positional input (extend's video, its first argument).
    public static func options(for mode: GenerationMode?) -> [RequestOption] {
        guard let mode else { return RequestOptions.all }
        let refused = Set(GenerationMode.allMediaFields).subtracting(mode.mediaFields.filter { $0 != mode.positionalField })
        return RequestOptions.all.filter { !refused.contains($0.name) }
    }

    static let videoType = Parameter(name: "video", type: "reel.Video", summary: "The finished video: id, url, path, model, prompt, …")
    static let imageType = Parameter(name: "image", type: "reel.Image", summary: "A PNG on this machine: path, width, height. Every image option takes it.")
    static let localVideoType = Parameter(name: "video", type: "reel.Video", summary: "A video made on this machine: path, duration. extend, :save() and every media function take it.")
    static let clipParameter = Parameter(name: "video", type: "reel.Video|string", summary: "A Video, or a video file's path.")

    /// Every function, in the reference's order.
    public static let functions: [Function] = LuaFunction.allCases.map(declaration(of:))

    public static func function(_ function: LuaFunction) -> Function { functions.first { $0.function == function }! }

    /// The one declaration of each function.
    static func declaration(of function: LuaFunction) -> Function {
        switch function {
        case .generation(let mode):
            switch mode {
            case .text:
                Function(function: function, summary: "Generates a video from a prompt.", positional: [], options: .request(mode),
                         optionsParameter: OptionsParameter(summary: "Options, or just the prompt.", orPrompt: true),
                         returns: videoType, example: #"local clip = text_to_video{ prompt = "a paper boat in a rain gutter", duration = 8 }"#)
            case .image:
                Function(function: function, summary: "Animates one image.", positional: [], options: .request(mode),
                         optionsParameter: OptionsParameter(summary: "Options; `image` is required."),
                         returns: videoType, example: #"local clip = image_to_video{ prompt = "the boat drifts", image = "frames/boat.png" }"#)
            case .frames:
                Function(function: function, summary: "Generates the motion between a first and a last frame.", positional: [], options: .request(mode),
                         optionsParameter: OptionsParameter(summary: "Options; `image` and `last_image` are required."),
                         returns: videoType, example: #"local clip = frames_to_video{ prompt = "dawn to dusk", image = "dawn.png", last_image = "dusk.png" }"#)
            case .reference:
                Function(function: function, summary: "Keeps a subject consistent with 2–3 reference images (standard models only).", positional: [],
                         options: .request(mode), optionsParameter: OptionsParameter(summary: "Options; `images` (2–3) is required."),
                         returns: videoType,
                         example: #"local clip = reference_to_video{ model = "veo3.1-video-720p", prompt = "the boat sails on", images = { "a.png", "b.png" } }"#)
            case .extend:
                Function(function: function, summary: "Continues a video; uses the source video's model unless `opts.model` names another.",
                         positional: [Parameter(name: "video", type: "reel.Video|string", summary: "A Video, an http(s) URL or a local file.")],
                         options: .request(mode), optionsParameter: OptionsParameter(summary: "Options, or just the prompt.", orPrompt: true, optional: true),
                         returns: videoType, example: #"local clip = text_to_video "a paper boat in a rain gutter"\#nlocal longer = extend(clip, { prompt = "the boat reaches a storm drain" })"#)
            }
        case .library(.generate):
            Function(function: function, summary: "Any of the above, the mode inferred from the inputs given (video, images, last_image, image, or none).",
                     positional: [], options: .request(nil), optionsParameter: OptionsParameter(summary: "The raw request model."),
                     returns: videoType, example: #"local clip = generate{ prompt = "a lighthouse", image = "https://example.com/keyframe.png" }"#)
        case .library(.lastFrame):
            Function(function: function, summary: "The last frame of a video, as an Image: start the next shot where this one ends (`image_to_video{ image = last_frame(v) }`). Made with ffmpeg, journaled: a re-run reuses it.",
                     positional: [clipParameter], options: .none, optionsParameter: nil,
                     returns: imageType, example: #"local clip = text_to_video "a paper boat in a rain gutter"\#nlocal next = image_to_video{ prompt = "the boat sails on", image = last_frame(clip) }"#)
        case .library(.frame):
            Function(function: function, summary: "The frame at a time in a video, as an Image.",
                     positional: [clipParameter, Parameter(name: "seconds", type: "number", summary: "From the start; at most the video's length.")],
                     options: .none, optionsParameter: nil,
                     returns: imageType, example: #"local clip = text_to_video "a paper boat in a rain gutter"\#nlocal still = frame(clip, 2.5)"#)
        case .library(.concat):
            Function(function: function, summary: "Joins clips in order into one film (a local Video). Sizes follow the first clip; sound is kept in sync, with silence for clips without it. With cuts the film lasts the sum of its clips; each fade overlaps two clips by its length.",
                     positional: [Parameter(name: "clips", type: "reel.Video[]", summary: "The clips, in order.")],
                     options: .declared([
                        LuaOption("transition", .choice(["cut", "fade"]), default: .string("cut"), defaultText: "\"cut\" (\"fade\" when `fade` is given)",
                                  summary: "How one clip gives way to the next."),
                        LuaOption("fade", .number(.above(0, atMost: 5)), default: .number(0.5), summary: "The cross-fade's length in seconds."),
                     ]),
                     optionsParameter: OptionsParameter(summary: "How clips are joined.", optional: true),
                     returns: localVideoType, example: #"local shots = map({ "dawn", "noon", "dusk" }, function(t) return text_to_video("a lighthouse at " .. t) end)\#nlocal film = concat(shots, { transition = "fade", fade = 0.5 })"#)
        case .library(.trim):
            Function(function: function, summary: "A part of a video, as a local Video (re-encoded, so the cut is exact).",
                     positional: [clipParameter],
                     options: .declared([
                        LuaOption("from", .number(.atLeast(0)), default: .integer(0), summary: "Where the part starts, in seconds."),
                        LuaOption("to", .number(.atLeast(0)), defaultText: "the video's end", summary: "Where it ends, in seconds; after `from`."),
                     ]),
                     optionsParameter: OptionsParameter(summary: "The part, in seconds.", optional: true),
                     returns: localVideoType, example: #"local clip = text_to_video "a paper boat in a rain gutter"\#nlocal opening = trim(clip, { from = 0, to = 3 })"#)
        case .library(.seams):
            Function(function: function, summary: "A contact sheet (a PNG Image) of every cut: the last frame of each clip beside the first frame of the next, captioned with the takes' labels. `reel run` prints its path in the summary.",
                     positional: [Parameter(name: "clips", type: "reel.Video[]|reel.Video", summary: "The clips in order, or a film made by concat.")],
                     options: .none, optionsParameter: nil,
                     returns: imageType, example: #"local film = concat{ text_to_video "a lighthouse at dawn", text_to_video "a lighthouse at dusk" }\#nlocal sheet = seams(film)"#)
        case .library(.defaults):
            Function(function: function, summary: "Sets options for every later call (a call's own options win); with no argument, returns them.",
                     positional: [], options: .request(nil), optionsParameter: OptionsParameter(summary: "Options to apply from now on.", optional: true),
                     returns: Parameter(name: "current", type: "table?", summary: "The defaults, when called with no argument."),
                     example: #"defaults{ model = "veo3.1-video-1080p", duration = 8, negative_prompt = "text, watermark" }"#)
        case .library(.budget):
            Function(function: function, summary: "Caps the seconds of video this run may submit (it can lower `--max-seconds`, not raise it); reused takes are free. A call past the cap raises an error with `code = \"budget\"`. Returns `{ seconds = cap, used = n }`.",
                     positional: [],
                     options: .declared([
                        LuaOption("seconds", .integer(.atLeast(0)), defaultText: "the cap as it is", summary: "The cap, in seconds of video."),
                     ]),
                     optionsParameter: OptionsParameter(summary: "The cap; leave out to read the budget.", optional: true),
                     returns: Parameter(name: "budget", type: "{ seconds: integer?, used: integer }", summary: "The cap and the seconds submitted so far."),
                     example: #"budget{ seconds = 60 }"#)
        case .library(.map):
            Function(function: function, summary: "Calls `fn(item, index)` for every item, side by side, and returns the results in order. Waits for all items even if one fails, then raises the first failure — or, with `errors = \"collect\"`, returns every item: its result, or its error table (`failed = true`, `index`, `code`, `message`).",
                     positional: [Parameter(name: "list", type: "any[]", summary: "The items."),
                                  Parameter(name: "fn", type: "fun(item: any, index: integer): any", summary: "Called once per item.")],
                     options: .declared([
                        LuaOption("concurrency", .integer(.atLeast(1)), defaultText: "every item at once",
                                  summary: "At most this many items at once (the run's --concurrency bounds generations too)."),
                        LuaOption("errors", .choice(["raise", "collect"]), default: .string("raise"),
                                  summary: "Raise the first failure, or collect every item's outcome."),
                     ]),
                     optionsParameter: OptionsParameter(summary: "How items run.", optional: true),
                     returns: Parameter(name: "results", type: "any[]", summary: "fn's result per item."),
                     example: #"local takes = map({ "dawn", "dusk" }, function(t) return text_to_video("a lighthouse at " .. t) end, { concurrency = 2 })"#)
        case .library(.parallel):
            Function(function: function, summary: "Runs the functions side by side and returns each one's first result, in order. Waits for all, then raises the first failure.",
                     positional: [Parameter(name: "...", type: "fun(): any", summary: "The functions.")], options: .none, optionsParameter: nil,
                     returns: Parameter(name: "...", type: "any", summary: "One result per function."),
                     example: #"local a, b = parallel(function() return text_to_video "a" end, function() return text_to_video "b" end)"#)
        case .library(.spawn):
            Function(function: function, summary: "Starts `fn(...)` side by side and returns a handle; `handle:wait()` returns its results or raises its error. A failure nobody waits for still fails the run.",
                     positional: [Parameter(name: "fn", type: "function", summary: "What to run."), Parameter(name: "...", type: "any", summary: "Its arguments.")],
                     options: .none, optionsParameter: nil,
                     returns: Parameter(name: "handle", type: "reel.Task", summary: "Call `:wait()` on it."),
                     example: #"local h = spawn(text_to_video, "a kite")\#nlocal boat = text_to_video "a paper boat"  -- made while the kite is generating\#nlocal kite = h:wait()"#)
        case .library(.sleep):
            Function(function: function, summary: "Waits, parking only the calling coroutine.",
                     positional: [Parameter(name: "seconds", type: "number", summary: "0 or more.")], options: .none, optionsParameter: nil, returns: nil,
                     example: "sleep(1.5)")
        case .library(.log):
            Function(function: function, summary: "Writes its arguments (tables as JSON, Videos readably) to standard error, above the progress lines.",
                     positional: [Parameter(name: "...", type: "any", summary: "Anything.")], options: .none, optionsParameter: nil, returns: nil,
                     example: #"local clip = text_to_video "a paper boat in a rain gutter"\#nlog("saved", clip:save())"#)
        case .library(.fmt):
            Function(function: function, summary: "Fills `{name}` in a template from a table; `{{` and `}}` are literal braces. A missing name is an error.",
                     positional: [Parameter(name: "template", type: "string", summary: "Text with {name} slots."),
                                  Parameter(name: "values", type: "table?", summary: "The values, e.g. a CSV row (`args`).")],
                     options: .none, optionsParameter: nil,
                     returns: Parameter(name: "text", type: "string", summary: "The filled-in text."),
                     example: #"text_to_video{ prompt = fmt("{animal} at {time}", { animal = "a fox", time = "dusk" }) }"#)
        }
    }

    /// Fields of a `Video`.
    public static let videoFields: [Parameter] = [
        Parameter(name: "id", type: "string", summary: "The task id."),
        Parameter(name: "url", type: "string?", summary: "The result URL (it expires; the file is already downloaded)."),
        Parameter(name: "path", type: "string?", summary: "Where reel downloaded it, as an absolute path (it works as an input from any folder)."),
        Parameter(name: "model", type: "string", summary: "The model that made it."),
        Parameter(name: "prompt", type: "string", summary: "Its prompt."),
        Parameter(name: "mode", type: "\"text\"|\"image\"|\"frames\"|\"reference\"|\"extend\"|\"concat\"|\"trim\"", summary: "How it was made (concat and trim: on this machine)."),
        Parameter(name: "duration", type: "number?", summary: "The requested seconds, if given; for a video made by concat or trim, its measured length."),
        Parameter(name: "label", type: "string", summary: "How reel names the take: script line, the prompt's start, the seed."),
        Parameter(name: "status", type: "string", summary: "\"succeeded\"; \"dry_run\" under --dry-run; \"invalid\" for the stand-in of a call --check refused; \"local\" for a file on this machine (a media function's result, or a path given to one)."),
        Parameter(name: "reused", type: "boolean?", summary: "true when taken from an earlier run's journal."),
        Parameter(name: "request", type: "table", summary: "A copy of the request body that was sent."),
    ]

    /// Fields of an `Image` (made by last_frame, frame or seams).
    public static let imageFields: [Parameter] = [
        Parameter(name: "path", type: "string", summary: "The PNG's absolute path (in a dry run, a placeholder URL)."),
        Parameter(name: "width", type: "integer?", summary: "In pixels (not known in a dry run)."),
        Parameter(name: "height", type: "integer?", summary: "In pixels (not known in a dry run)."),
        Parameter(name: "kind", type: "\"last_frame\"|\"frame\"|\"seams\"", summary: "The function that made it."),
        Parameter(name: "label", type: "string", summary: "What it was taken from."),
        Parameter(name: "reused", type: "boolean?", summary: "true when an earlier run had made it."),
    ]

    /// Fields of the error table every failure raises.
    public static let errorFields: [Parameter] = [
        Parameter(name: "code", type: VideoAPIError.Code.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: "|"), summary: "What kind of failure."),
        Parameter(name: "message", type: "string", summary: "What happened and what to do."),
        Parameter(name: "task_id", type: "string?", summary: "The task, when there is one."),
        Parameter(name: "http_status", type: "integer?", summary: "The HTTP status behind it, if any."),
        Parameter(name: "where", type: "string", summary: "script.lua:LINE of the call."),
    ]

    /// The LuaLS type of a request option.
    static func luaType(of option: RequestOption) -> String {
        switch option.kind {
        case .string where !option.allowed.isEmpty: option.allowed.map { "\"\($0)\"" }.joined(separator: "|")
        case .integer where !option.allowed.isEmpty: option.allowed.joined(separator: "|")
        case .string: "string"
        case .integer: "integer"
        case .boolean: "boolean"
        case .stringList: "string[]"
        case .object: "table<string, any>"
        case .media: option.name == "video" ? "reel.Video|string" : "string"
        case .mediaList: "string[]"
        }
    }
}
