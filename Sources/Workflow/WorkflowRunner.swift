import Foundation
import LuaRuntime
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

    public var description: String {
        switch self {
        case .unreadableScript(let path, let reason): "cannot read script '\(path)': \(reason)"
        case .script(let error): error.message
        }
    }
}

public enum WorkflowRunner {
    /// Runs the script to the end with `generator` doing the work.
    public static func run(_ options: WorkflowOptions, generator: any VideoGenerator, reporter: any RunReporter) async throws(WorkflowFailure) {
        let source = try readScript(options.scriptPath)
        do {
            let lua = try LuaState(limits: options.limits)
            let scriptDirectory = (options.scriptPath as NSString).deletingLastPathComponent
            let library = ReelLibrary(generator: generator, reporter: reporter, outputDirectory: options.outputDirectory,
                                      scriptDirectory: scriptDirectory.isEmpty ? "." : scriptDirectory, baseModel: options.baseModel,
                                      freshAll: options.fresh)
            library.install(into: lua, arguments: options.arguments)
            lua.addModuleDirectory(scriptDirectory)
            if options.sandbox {
                library.writableDirectory = LuaState.resolvedPath(options.outputDirectory)
                try lua.applySandbox(writableDirectories: [options.outputDirectory])
            }
            _ = try await lua.run(source, chunkName: "@" + options.scriptName)
        } catch let error as LuaScriptError {
            throw .script(error)
        } catch {
            throw .script(LuaScriptError(message: String(describing: error)))
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
