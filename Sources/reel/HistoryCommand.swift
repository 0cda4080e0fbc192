import ArgumentParser
import Foundation
import VideoAPI
import Workflow

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List earlier runs and their generations, from the journal.",
        discussion: "Reads the journal (safe while another run writes it). Each generation shows its task id, state, model, seconds, prompt and file."
    )

    @OptionGroup var state: StateOptions
    var stateDirectory: String { state.directory }

    @Option(name: .customLong("run"), help: ArgumentHelp("Only this run.", valueName: "id"))
    var runID: Int64?

    @Option(help: ArgumentHelp("How many runs to show, newest first.", valueName: "n"))
    var limit: Int = 10

    @Flag(help: "Print JSON: every run with its tasks, including file paths and SHA-256.")
    var json = false

    func run() throws {
        guard state.journalExists else {
            if json { print("[]") } else { print("No runs yet: the journal (\(state.journalPath)) is empty.") }
            return
        }
        let journal: Journal
        do {
            journal = try Journal(directory: stateDirectory)
        } catch {
            printError("reel: cannot read the journal in \(stateDirectory): \(error)")
            throw ExitCode(ReelExit.usage)
        }
        var runs = try journal.runs(limit: runID == nil ? limit : Int.max)
        if let runID { runs = runs.filter { $0.id == runID } }
        if json {
            let list = try runs.map { record -> JSONValue in
                .object([
                    ("id", .int(record.id)), ("script", .string(record.script)), ("base_url", .string(record.baseURL)),
                    ("started_at", .double(record.startedAt)), ("finished_at", record.finishedAt.map(JSONValue.double) ?? .null),
                    ("outcome", record.outcome.map(JSONValue.string) ?? .null),
                    ("tasks", .array(try journal.tasks(runID: record.id).map(Self.json))),
                ])
            }
            print(JSONValue.array(list).pretty())
            return
        }
        if runs.isEmpty { print("No runs yet.") }
        let dates = DateFormatter()
        dates.dateFormat = "yyyy-MM-dd HH:mm:ss"
        for record in runs {
            let tasks = try journal.tasks(runID: record.id)
            let seconds = tasks.filter { $0.state == .downloaded }.reduce(0) { $0 + $1.seconds }
            print("run \(record.id)  \(dates.string(from: Date(timeIntervalSince1970: record.startedAt)))  \(record.script)  \(record.outcome ?? "running")  \(tasks.count) generation\(tasks.count == 1 ? "" : "s"), \(seconds) s of video")
            for task in tasks {
                let prompt = task.prompt.count > 48 ? String(task.prompt.prefix(47)) + "…" : task.prompt
                let detail = task.path ?? task.error.map { String($0.prefix(80)) } ?? ""
                print("  \(task.taskID ?? "-")  \(task.state.rawValue)  \(task.model)  \(task.seconds) s  \"\(prompt)\"  \(detail)")
            }
        }
    }

    static func json(_ task: TaskRecord) -> JSONValue {
        .object([
            ("task_id", task.taskID.map(JSONValue.string) ?? .null), ("state", .string(task.state.rawValue)),
            ("mode", .string(task.mode)), ("model", .string(task.model)), ("prompt", .string(task.prompt)),
            ("seconds", .int(task.seconds)), ("path", task.path.map(JSONValue.string) ?? .null),
            ("sha256", task.sha256.map(JSONValue.string) ?? .null), ("bytes", task.bytes.map(JSONValue.int) ?? .null),
            ("result_url", task.resultURL.map(JSONValue.string) ?? .null), ("error", task.error.map(JSONValue.string) ?? .null),
            ("key", .string(task.key)),
        ])
    }
}
