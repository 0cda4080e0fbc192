import Foundation
import LuaRuntime
import Support
import VideoAPI

/// Everything a run needs besides the generator: which script, its arguments, where files go.
public struct WorkflowOptions: Sendable {
    public var scriptPath: String
    /// How errors name the script (`name.lua:LINE:`); the path as given by default.
    public var scriptName: String
    public var arguments: [String: String]
    public var outputDirectory: String
    /// The model when neither a call nor `defaults{}` names one.
    public var baseModel: String
    public var limits: LuaLimits
    /// `--fresh`: ignore the journal's earlier results for every call.
    public var fresh = false
    /// `--sandbox`: no programs, native code, debug, or writes outside the output folder.
    public var sandbox = false
    /// `reel check` and `--dry-run`: a call the validator refuses is reported and answered with
    /// a placeholder Video, so one run of the check lists every invalid call of the script.
    public var reportEveryInvalidCall = false
    /// `--name`: the file-name template for every take.
    public var fileNameTemplate: String?
    /// The run's cap on generations in flight (`--concurrency`), so a `map` that asks for more
    /// at once is told (once) that the cap wins.
    public var generationConcurrency: Int?
    /// The estimate's dry pass before a live run: print nothing, write nothing, run nothing.
    public var preview = false
    /// The run's cap on seconds of video submitted, shared with the generator; `budget{}`
    /// in the script may lower it.
    public var budget = Budget()

    public init(scriptPath: String, arguments: [String: String] = [:], outputDirectory: String = "out",
                baseModel: String = Capabilities.defaultModelName, limits: LuaLimits = LuaLimits()) {
        self.scriptPath = scriptPath
        self.scriptName = scriptPath
        self.arguments = arguments
        self.outputDirectory = outputDirectory
        self.baseModel = baseModel
        self.limits = limits
    }
}

/// Why a run did not finish.
public enum WorkflowFailure: Error, Sendable, CustomStringConvertible {
    /// The script file could not be read (a usage error).
    case unreadableScript(path: String, reason: String)
    /// The script raised an error or was stopped.
    case script(LuaScriptError)
    /// Calls the validator refused (with `reportEveryInvalidCall`), each `script.lua:LINE: …`.
    case invalidCalls([String])

    public var description: String {
        switch self {
        case .unreadableScript(let path, let reason): "cannot read script '\(path)': \(reason)"
        case .script(let error): error.message
        case .invalidCalls(let messages): messages.joined(separator: "\n")
        }
    }
}

/// A Lua state with reel's library installed, kept for as many chunks as its owner runs:
/// one script (`reel run`) or one line after another (`reel repl`).
///
/// Sendable so a chunk can run in its own (cancellable) task, but used by one task at a
/// time: the owner awaits each chunk before it starts the next.
public final class WorkflowSession: @unchecked Sendable {
    let lua: LuaState
    /// Its Lua functions hold it unowned: the session keeps it alive as long as the state.
    let library: ReelLibrary

    /// `directory` is where local inputs and `require` resolve (the script's folder).
    public init(_ options: WorkflowOptions, directory: String, generator: any VideoGenerator, reporter: any RunReporter) throws(LuaScriptError) {
        lua = try LuaState(limits: options.limits)
        library = ReelLibrary(generator: generator, reporter: reporter, outputDirectory: options.outputDirectory,
                              scriptDirectory: directory.isEmpty ? "." : directory, baseModel: options.baseModel,
                              freshAll: options.fresh)
        if options.reportEveryInvalidCall { library.invalidCalls = InvalidCallLog() }
        library.budget = options.budget
        library.generationConcurrency = options.generationConcurrency
        library.fileNameTemplate = options.fileNameTemplate
        library.install(into: lua, arguments: options.arguments)
        lua.addModuleDirectory(directory)
        if options.sandbox {
            let scriptFolder = directory.isEmpty ? "." : directory
            library.writableDirectory = LuaState.resolvedPath(options.outputDirectory)
            library.readableDirectories = [options.outputDirectory, scriptFolder].map(LuaState.resolvedPath)
            try lua.applySandbox(writableDirectories: [options.outputDirectory], readableDirectories: [scriptFolder])
        }
        if options.preview { try lua.applyPreview() }
    }

    /// Runs one chunk to the end (and everything it spawned); returns its results.
    @discardableResult
    public func run(_ source: String, chunkName: String) async throws(LuaScriptError) -> [LuaValue] {
        do {
            return try await lua.run(source, chunkName: chunkName)
        } catch {
            throw Self.namingTheLikelyFunction(error)
        }
    }

    /// A call of a misspelt function (`text_to_vido{…}`) gets Lua's "attempt to call a nil
    /// value (global 'text_to_vido')" and, as a misspelt option does, the likely name.
    static func namingTheLikelyFunction(_ error: LuaScriptError) -> LuaScriptError {
        guard case .string = error.value,
              let found = error.message.range(of: #"attempt to call a nil value \(global '[A-Za-z_][A-Za-z0-9_]*'\)$"#, options: .regularExpression)
        else { return error }
        let name = error.message[found].split(separator: "'")[1]
        guard let likely = nearestName(to: String(name), in: LuaFunction.names + standardFunctions) else { return error }
        var hinted = error
        hinted.message += " (did you mean '\(likely)'?)"
        return hinted
    }

    /// Lua's own global functions a script calls (the sandbox keeps these).
    private static let standardFunctions = ["print", "pairs", "ipairs", "tostring", "tonumber", "type", "pcall", "error",
                                            "assert", "select", "require", "setmetatable", "getmetatable", "rawget", "rawset", "next"]

    /// The calls the validator refused so far (with `reportEveryInvalidCall`).
    public var invalidCalls: [String] { library.invalidCalls?.messages ?? [] }

    /// Whether `source` compiles, needs more lines, or has a syntax error.
    /// Errors name the chunk as `run` will (`=repl` → `repl:LINE:`).
    public func completeness(of source: String, chunkName: String) -> LuaState.Completeness { lua.completeness(of: source, chunkName: chunkName) }

    /// Adds a global function for this session only (the REPL's `tasks()`).
    public func register(_ name: String, _ body: @escaping () -> LuaValue) {
        lua.register(name) { _ in .value(body()) }
    }

    /// A readable one-line form of a result (a Video shows its id, status, URL and file).
    public static func describe(_ value: LuaValue) -> String { ReelLibrary.display(value) }
}

public enum WorkflowRunner {
    /// Runs the script to the end with `generator` doing the work.
    public static func run(_ options: WorkflowOptions, generator: any VideoGenerator, reporter: any RunReporter) async throws(WorkflowFailure) {
        let source = try readScript(options.scriptPath)
        let session: WorkflowSession
        do throws(LuaScriptError) {
            let directory = (options.scriptPath as NSString).deletingLastPathComponent
            session = try WorkflowSession(options, directory: directory, generator: generator, reporter: reporter)
            try await session.run(source, chunkName: "@" + options.scriptName)
        } catch {
            throw .script(error)
        }
        if !session.invalidCalls.isEmpty { throw .invalidCalls(session.invalidCalls) }
    }

    /// `--each rows.csv`: the script once per row, the row's columns in `args` (over the
    /// command line's pairs), at most `concurrency` rows at a time. Every row runs even if
    /// another fails; the failures come back with their row numbers (1 = first data row).
    public static func runEach(_ options: WorkflowOptions, rows: [[String: String]], concurrency: Int,
                               generator: any VideoGenerator, reporter: any RunReporter) async -> [(row: Int, failure: WorkflowFailure)] {
        await withTaskGroup(of: (Int, WorkflowFailure?).self) { group in
            var failures: [(row: Int, failure: WorkflowFailure)] = []
            var next = 0
            func start() {
                guard next < rows.count else { return }
                let index = next
                next += 1
                var rowOptions = options
                rowOptions.arguments.merge(rows[index]) { _, row in row }
                rowOptions.arguments["_row"] = String(index + 1)
                group.addTask {
                    do throws(WorkflowFailure) {
                        try await run(rowOptions, generator: generator, reporter: reporter)
                        return (index + 1, nil)
                    } catch {
                        return (index + 1, error)
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { start() }
            while let (row, failure) = await group.next() {
                if let failure { failures.append((row, failure)) }
                start()
            }
            return failures.sorted { $0.row < $1.row }
        }
    }

    static func readScript(_ path: String) throws(WorkflowFailure) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw .unreadableScript(path: path, reason: exists ? "permission denied or not a file" : "no such file")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw .unreadableScript(path: path, reason: "not UTF-8 text")
        }
        // A "#!" first line is allowed, as lua(1) allows it; keep the line count for errors.
        if text.hasPrefix("#") {
            let end = text.firstIndex(of: "\n") ?? text.endIndex
            text.replaceSubrange(text.startIndex..<end, with: "--")
        }
        return text
    }
}
