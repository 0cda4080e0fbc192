import ArgumentParser
import Foundation
import LuaRuntime
import Support
import VideoAPI
import Workflow

/// What `run` and `check` share: the script, its arguments, and how it may behave.
struct ScriptOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The Lua workflow script.", valueName: "script.lua"))
    var script: String

    @Argument(help: ArgumentHelp("Arguments for the script, as key=value; the script reads them from `args`.", valueName: "key=value"))
    var arguments: [String] = []

    @OptionGroup var output: OutputOptions

    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("max-instructions"), help: ArgumentHelp("Stop a script after this many Lua instructions (0: no limit).", valueName: "n"))
    var maxInstructions: Int64 = 0

    @Option(name: .customLong("max-memory"), help: ArgumentHelp("Stop a script that holds more than this many MiB of Lua memory.", valueName: "MiB"))
    var maxMemory: Int = 1024

    @Option(name: .customLong("name"), help: ArgumentHelp("Name each video file from a template of " + RequestOptions.fileNameFields.map { "{\($0)}" }.joined(separator: ", ") + ", e.g. \"{row}-{seed}-{id}\" (a call's own name = … wins; a name already taken gets the task id added).", valueName: "template"))
    var name: String?

    @Option(name: .customLong("each"), help: ArgumentHelp("Run the script once per row of this CSV file (its header names the columns); each row's values arrive in args, args._row is its number.", valueName: "rows.csv"))
    var each: String?

    @OptionGroup var limits: BudgetOptions

    @Flag(help: "Take away os.execute, io.popen, debug, native modules, and file writes outside --out.")
    var sandbox = false

    @Flag(name: .shortAndLong, help: "Only errors and results; no warnings or progress.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "More detail: tracebacks, every request and response status.")
    var verbose = false

    func validate() throws {
        _ = try parsedArguments()
        _ = try rows()
        if maxMemory < 1 { throw ValidationError("--max-memory must be at least 1 MiB (got \(maxMemory))") }
        if let name, let problem = RequestOptions.fileNameProblem(name) { throw ValidationError("--name \(problem)") }
        if maxInstructions < 0 { throw ValidationError("--max-instructions must be 0 (no limit) or more (got \(maxInstructions))") }
    }

    /// `key=value` pairs as the script's `args` table.
    func parsedArguments() throws -> [String: String] {
        var out: [String: String] = [:]
        for pair in arguments {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                // `--concurency 6`: the parser took '6' for a script argument; name the flag.
                let given = CommandLine.arguments
                if let at = given.firstIndex(of: pair), at > 0, given[at - 1].hasPrefix("-") {
                    let flag = given[at - 1]
                    let known = RunCommand.helpMessage(columns: 1000).matches(of: /--[a-z][a-z-]*/).map { String($0.output) }
                    let hint = nearestName(to: flag, in: Array(Set(known))).map { " (did you mean '\($0)'?)" } ?? ""
                    throw ValidationError("unknown option '\(flag)'\(hint); see `reel run --help`")
                }
                throw ValidationError("script arguments are key=value (got '\(pair)'); the script reads them as args.key")
            }
            out[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        if let (argument, byte, offset) = Self.argumentNotUTF8(), arguments.contains(argument) {
            throw ValidationError("the script argument '\(argument)' is not valid UTF-8 (byte 0x\(String(byte, radix: 16, uppercase: true)) at byte \(offset + 1)); requests carry text as UTF-8, so give it in UTF-8")
        }
        return out
    }

    /// The first command-line argument whose bytes are not UTF-8, as `CommandLine.arguments`
    /// holds it (repaired with U+FFFD, so two different arguments could read the same), with
    /// its first such byte.
    private static func argumentNotUTF8() -> (String, UInt8, Int)? {
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index] else { continue }
            let text = LuaText.decode(UnsafeRawBufferPointer(start: raw, count: strlen(raw)))
            if let (byte, offset) = LuaText.invalidByte(in: text) { return (CommandLine.arguments[index], byte, offset) }
        }
        return nil
    }

    func workflowOptions() throws -> WorkflowOptions {
        var options = WorkflowOptions(
            scriptPath: script, arguments: try parsedArguments(), outputDirectory: output.directory, baseModel: try model.resolved(),
            limits: LuaLimits(memoryBytes: maxMemory << 20, instructions: maxInstructions > 0 ? maxInstructions : nil))
        options.sandbox = sandbox
        options.fileNameTemplate = name
        return options
    }

    /// The run's options with its budget: the caps, and the prices they are counted in.
    func workflowOptionsWithBudget() async throws -> WorkflowOptions {
        var options = try workflowOptions()
        // Prices show in the plan, the live view and the summary; a quiet run has no use for them.
        options.budget = try await limits.budget(showsMoney: !quiet)
        return options
    }

    /// The rows of --each, or nil without it; a bad file is a usage error.
    func rows() throws -> [[String: String]]? {
        guard let each else { return nil }
        do {
            return try CSVTable(path: each).rows
        } catch {
            throw ValidationError("--each: \(error.description)")
        }
    }

    /// Runs the script once, or once per --each row; returns the failures (row nil: the one run).
    func execute(_ options: WorkflowOptions, generator: any VideoGenerator, reporter: any RunReporter,
                 concurrency: Int) async throws -> [(row: Int?, failure: WorkflowFailure)] {
        if let rows = try rows() {
            return await WorkflowRunner.runEach(options, rows: rows, concurrency: concurrency, generator: generator, reporter: reporter)
                .map { (row: Optional($0.row), failure: $0.failure) }
        }
        do {
            try await WorkflowRunner.run(options, generator: generator, reporter: reporter)
            return []
        } catch {
            return [(row: nil, failure: error)]
        }
    }

    /// Reports every failure; the exit code of the worst, or nil when there were none.
    func report(_ failures: [(row: Int?, failure: WorkflowFailure)]) -> ExitCode? {
        var worst: ExitCode?
        for (row, failure) in failures {
            if let row { printError("row \(row) of \(each ?? "the CSV"):") }
            let code = report(failure)
            if worst == nil || code.rawValue > worst!.rawValue { worst = code }
        }
        if failures.count > 1, each != nil { printError("\(failures.count) rows failed") }
        return worst
    }

    /// Reports a failed run and gives its exit code.
    func report(_ failure: WorkflowFailure) -> ExitCode {
        switch failure {
        case .unreadableScript:
            printError("reel: \(failure)")
            return ExitCode(ReelExit.usage)
        case .invalidCalls(let messages):
            for message in messages { printError("error: \(message)") }
            return ExitCode(ReelExit.scriptError)
        case .script(let error):
            printError("error: \(error.message)")
            if let reason = error.stopReason, reason != .interrupted {
                printError(reason == .memoryLimit ? "  (the script holds too much memory; raise --max-memory if it needs more)"
                                                  : "  (the script ran too long; raise --max-instructions if it needs more)")
            }
            if verbose && !error.traceback.isEmpty && error.traceback != error.message { printError(error.traceback) }
            return ExitCode(error.stopReason == .interrupted ? ReelExit.interrupted : ReelExit.scriptError)
        }
    }
}
