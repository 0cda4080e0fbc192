import ArgumentParser
import Console
import Foundation
import Support
import VideoAPI
import Workflow

/// `reel`: runs Lua workflow scripts against a Veo 3.1 video-generation gateway.
struct Reel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reel",
        abstract: "Run Lua workflow scripts that generate videos with Veo 3.1.",
        discussion: """
            \(LuaFunction.helpSentence) `reel gallery` shows the takes.

            Environment:
              REEL_BASE_URL      the gateway (no /v1); unset: the built-in simulator
              REEL_API_KEY_FILE  a file holding the key (recommended: then the key
                                 is in no environment a script could read)
              REEL_API_KEY       the key, sent as a Bearer token, never printed
              REEL_MODEL         the model when a script names none

            Exit codes: 0 done, 1 script error, 2 usage or configuration error, 130 interrupted.
            """,
        version: ReelVersion.current,
        subcommands: [RunCommand.self, CheckCommand.self, ModelsCommand.self, SimulatorCommand.self, HistoryCommand.self, SpendCommand.self, GalleryCommand.self, TaskCommand.self, ReplCommand.self, DocsCommand.self]
    )
}

/// What `reel --version` prints.
enum ReelVersion {
    static let current = "0.9.0"
}

/// reel's exit codes, as `reel --help` and the README list them.
enum ReelExit {
    static let scriptError: Int32 = 1
    static let usage: Int32 = 2
    static let interrupted: Int32 = 130
}

@main
enum ReelMain {
    static func main() async {
        StandardStream.ignoreBrokenPipes()
        SignalWatcher.acceptStopSignals()
        APIKey.takeFromEnvironment()
        do {
            var command = try parse(Array(CommandLine.arguments.dropFirst()))
            // `reel run` does its async work on NIO's event loops. Not the REPL: it waits for
            // the keyboard in a blocking read, which must not hold an event loop.
            if command is RunCommand { EventLoopExecutor.install() }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(code(for: error))
        }
    }

    /// The command line as a command. `reel run …` and the other subcommands are parsed as
    /// themselves first: ArgumentParser otherwise reflects the whole command tree on every
    /// start (about a third of an empty run's start-up). Their configurations name "reel" as
    /// their super-command, so usage lines read the same either way. Anything that is not a
    /// plain successful parse (help, --version, a mistake) goes through the root, which words
    /// the message.
    static func parse(_ arguments: [String]) throws -> any ParsableCommand {
        if let name = arguments.first,
            let subcommand = Reel.configuration.subcommands.first(where: { $0.configuration.commandName == name }),
            let command = try? subcommand.parseAsRoot(Array(arguments.dropFirst())) {
            return command
        }
        return try Reel.parseAsRoot(arguments)
    }

    /// Prints what ArgumentParser has to say and maps its usage errors to exit code 2.
    static func code(for error: any Error) -> Int32 {
        if let exitCode = error as? ExitCode { return exitCode.rawValue }
        let parserCode = Reel.exitCode(for: error)
        let message = Reel.fullMessage(for: error)
        if parserCode == .success {
            if !message.isEmpty { print(message) }
            return 0
        }
        if !message.isEmpty { printError(message) }
        return ReelExit.usage  // commands turn their own failures into ExitCode; the rest is usage
    }
}

/// Writes a message to standard error; a control in it (from a gateway, the journal, a
/// script) is shown as an escape, never acted on by the terminal.
func printError(_ line: String) {
    StandardStream.error.writeLine(TerminalText.escaped(line, keepingLineBreaks: true))
}
