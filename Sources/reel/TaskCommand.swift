import ArgumentParser
import Foundation
import Simulator
import Support
import VideoAPI
import Workflow

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        _superCommandName: "reel",
        abstract: "Show one task's state on the gateway, and download its video with --save.",
        discussion: """
            Asks the gateway (REEL_BASE_URL or --base-url, else the one the journal recorded for this task) about the task, and adds what the journal knows: prompt, model, file.

            Examples:
              reel task task_8c1f…
              reel task task_8c1f… --save out/kept.mp4
            """
    )

    @Argument(help: "The task id (as printed by reel run, or listed by reel history).")
    var id: String

    @Option(help: ArgumentHelp("Download the task's video to this path.", valueName: "path"))
    var save: String?

    @OptionGroup var gatewayOptions: GatewayOptions

    @OptionGroup var state: StateOptions
    var stateDirectory: String { state.directory }

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let record = state.journalExists ? (try? state.openJournal().task(taskID: id)) ?? nil : nil
        if let record, record.baseURL == SimulatorConfiguration.builtInIdentity {
            try await answerFromJournal(record)
            return
        }
        guard let base = gatewayOptions.named?.url ?? record?.baseURL else {
            printError("reel task: which gateway? Set REEL_BASE_URL or --base-url (the journal in \(stateDirectory) does not know task \(id))")
            throw ExitCode(ReelExit.usage)
        }
        if let problem = APIKey.problem {
            printError("reel task: \(problem)")
            throw ExitCode(ReelExit.usage)
        }
        let configuration = ClientConfiguration(baseURL: base, apiKey: APIKey.value)
        if let problem = configuration.baseURLProblem {
            printError("reel task: \(problem)")
            throw ExitCode(ReelExit.usage)
        }
        let client = VideoClient(configuration)
        defer { Task { await client.shutdown() } }
        let snapshot: TaskSnapshot
        do {
            snapshot = try await client.poll(id).0
        } catch {
            printError("reel task: " + TerminalText.escaped(error.message))
            throw ExitCode(ReelExit.scriptError)
        }
        var saved: String?
        if let save {
            guard snapshot.status == .succeeded else {
                printError(TerminalText.escaped("reel task: task \(id) is \(snapshot.status?.description ?? "in an unknown state"); there is no video to save yet"))
                throw ExitCode(ReelExit.scriptError)
            }
            do {
                try await client.download(id, resultURL: snapshot.resultURL, to: save)
                saved = save
            } catch {
                printError("reel task: " + TerminalText.escaped(error.message))
                throw ExitCode(ReelExit.scriptError)
            }
        }
        print(fields: snapshot.fields(id: id), record: record, saved: saved)
    }

    /// A task of the built-in simulator: its simulator ended with its run, so the journal is
    /// the answer, and --save copies the journaled file once its SHA-256 still matches.
    private func answerFromJournal(_ record: TaskRecord) async throws {
        var saved: String?
        if let save {
            guard let path = record.path, let sha = record.sha256 else {
                printError("reel task: task \(id) ran on the built-in simulator and was not downloaded (journal state \(record.state.rawValue)); run its script again")
                throw ExitCode(ReelExit.scriptError)
            }
            do {
                try await JournaledFile.copy(path, expectedSHA256: sha, to: save)
                saved = save
            } catch {
                printError("reel task: \(error)")
                throw ExitCode(ReelExit.scriptError)
            }
        }
        let status = record.state == .downloaded ? "succeeded" : record.state.rawValue
        var fields: [(String, JSONValue)] = [("id", .string(id)), ("status", .string(status)), ("gateway", "the built-in simulator (answered from the journal)")]
        if let url = record.resultURL { fields.append(("url", .string(url))) }
        print(fields: fields, record: record, saved: saved)
    }

    private func print(fields: [(String, JSONValue)], record: TaskRecord?, saved: String?) {
        var fields = fields
        if let record {
            fields += [("prompt", .string(record.prompt)), ("model", .string(record.model)), ("seconds", .int(record.seconds)),
                       ("journal_state", .string(record.state.rawValue))]
            if let path = record.path { fields.append(("file", .string(path))) }
        }
        if let saved { fields.append(("saved", .string(saved))) }
        if json {
            Swift.print(JSONValue.object(fields).pretty())
        } else {
            let width = fields.map(\.0.count).max() ?? 0
            for (name, value) in fields {
                let text = value.stringValue ?? value.encoded()
                Swift.print("\(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(TerminalText.escaped(text))")
            }
        }
    }
}
