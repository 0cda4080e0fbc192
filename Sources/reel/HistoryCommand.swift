import ArgumentParser
import Foundation
import Simulator
import Support
import VideoAPI
import Workflow

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        _superCommandName: "reel",
        abstract: "List earlier runs and their generations, from the journal.",
        discussion: """
            Reads the journal (safe while another run writes it). Each generation shows its task id, state, model, seconds, seed, script line, full prompt, and its file or error; each run its script and arguments, and which takes another run submitted (reused, resumed or waited for: not paid again). --json adds the request body sent and the file's SHA-256.

            Examples:
              reel history --failed            what failed, and why
              reel history --grep lighthouse   the takes whose prompt mentions it
              reel history --run 12 --json
            """
    )

    @OptionGroup var state: StateOptions
    var stateDirectory: String { state.directory }

    @Option(name: .customLong("run"), help: ArgumentHelp("Only this run.", valueName: "id"))
    var runID: Int64?

    @Option(help: ArgumentHelp("How many runs to show, newest first (with --grep or --failed: of the runs that match).", valueName: "n"))
    var limit: Int = 10

    @Option(help: ArgumentHelp("Only generations whose prompt, task id, script line or error contains this (any case), searched in every run.", valueName: "text"))
    var grep: String?

    @Flag(help: "Only generations that failed or whose outcome is unknown.")
    var failed = false

    @Flag(help: "Print JSON: every run with its tasks, including request bodies, file paths and SHA-256.")
    var json = false

    func run() throws {
        guard state.journalExists else {
            if json { print("[]") } else { print("No runs yet: the journal (\(state.journalPath)) is empty.") }
            return
        }
        let journal: Journal
        do {
            journal = try state.openJournal()
        } catch {
            printError("reel: cannot read the journal in \(stateDirectory): \(error)")
            throw ExitCode(ReelExit.usage)
        }
        // --grep and --failed search every run; --limit then counts the runs that match.
        let searching = grep != nil || failed
        var runs = try journal.runs(limit: runID == nil && !searching ? limit : Int.max)
        if let runID { runs = runs.filter { $0.id == runID } }
        var shown = try runs.map { ($0, try journal.tasks(runID: $0.id).filter(wanted)) }
            .filter { !searching || !$0.1.isEmpty }
        let olderMatches = runID == nil ? max(0, shown.count - limit) : 0
        shown = Array(shown.prefix(shown.count - olderMatches))
        if json {
            print(JSONValue.array(shown.map { record, tasks in
                .object([
                    ("id", .int(record.id)), ("script", .string(record.script)), ("base_url", .string(record.baseURL)),
                    ("arguments", record.arguments.flatMap { try? JSONValue.parse(Data($0.utf8)) } ?? .null),
                    ("started_at", .double(record.startedAt)), ("finished_at", record.finishedAt.map(JSONValue.double) ?? .null),
                    ("outcome", record.outcome.map(JSONValue.string) ?? .null),
                    ("tasks", .array(tasks.map(Self.json))),
                ])
            }).pretty())
            return
        }
        if shown.isEmpty { print(runs.isEmpty ? "No runs yet." : runs.count == 1 ? "No generations match in the one run." : "No generations match in any of the \(runs.count) runs.") }
        let dates = DateFormatter()
        dates.dateFormat = "yyyy-MM-dd HH:mm:ss"
        for (record, tasks) in shown {
            let seconds = tasks.filter { $0.state == .downloaded }.reduce(0) { $0 + $1.countedSeconds }
            let arguments = record.arguments.map { "  \($0)" } ?? ""
            // A run that reused, resumed or waited for another run's take did not pay for it:
            // said here as `reel spend` counts it, so a re-run's history never reads as a second bill.
            let elsewhere = tasks.filter { $0.runID != record.id }.count
            let paidElsewhere = elsewhere == 0 ? "" : "; \(elsewhere == tasks.count ? "all" : "\(elsewhere)") submitted by another run (not paid again)"
            // The built-in simulator's takes are test patterns: said, so they never read as spending.
            let simulated = record.baseURL == SimulatorConfiguration.builtInIdentity ? " on the built-in simulator (not billed)" : ""
            // Each line is one line: a prompt's newline or a gateway's escape sequence shown, not acted on.
            print(TerminalText.escaped("run \(record.id)  \(dates.string(from: Date(timeIntervalSince1970: record.startedAt)))  \(record.script)\(arguments)  \(record.outcome ?? "running")  \(tasks.count) generation\(tasks.count == 1 ? "" : "s"), \(seconds) s of video\(simulated)\(paidElsewhere)"))
            for task in tasks {
                let seed = task.generationRequest?.extraBody.seed.map { "  seed \($0)" } ?? ""
                let place = task.callSite.map { "  \($0)" } ?? ""
                let origin = task.runID == record.id ? "" : "  submitted by run \(task.runID)"
                print(TerminalText.escaped("  \(task.taskID ?? "-")  \(task.state.rawValue)  \(task.model)  \(task.countedSeconds) s\(seed)\(place)  \"\(task.prompt)\"\(origin)"))
                if let path = task.path { print(TerminalText.escaped("      file: \(path)")) }
                if let error = task.error, task.state != .downloaded { print(TerminalText.escaped("      \(task.state == .unknown ? "outcome unknown" : "error"): \(error)")) }
            }
        }
        if olderMatches > 0 { print("… and \(olderMatches) older run\(olderMatches == 1 ? "" : "s") with matching generations (--limit \(limit + olderMatches) shows all)") }
    }

    private func wanted(_ task: TaskRecord) -> Bool {
        if failed && task.state != .failed && task.state != .unknown { return false }
        guard let grep = grep?.lowercased() else { return true }
        return [task.prompt, task.taskID ?? "", task.callSite ?? "", task.error ?? ""].contains { $0.lowercased().contains(grep) }
    }

    static func json(_ task: TaskRecord) -> JSONValue {
        return .object([
            ("task_id", task.taskID.map(JSONValue.string) ?? .null), ("state", .string(task.state.rawValue)),
            ("mode", .string(task.mode)), ("model", .string(task.model)), ("prompt", .string(task.prompt)),
            ("seed", task.generationRequest?.extraBody.seed.map(JSONValue.int) ?? .null), ("call_site", task.callSite.map(JSONValue.string) ?? .null),
            ("seconds", .int(task.seconds)), ("request", task.sentBody ?? .string(task.sent ?? task.request)),
            ("path", task.path.map(JSONValue.string) ?? .null),
            ("sha256", task.sha256.map(JSONValue.string) ?? .null), ("bytes", task.bytes.map(JSONValue.int) ?? .null),
            ("result_url", task.resultURL.map(JSONValue.string) ?? .null), ("error", task.error.map(JSONValue.string) ?? .null),
            ("created_at", .double(task.createdAt)), ("key", .string(task.key)),
            ("submitted_by_run", .int(task.runID)),
        ])
    }
}
