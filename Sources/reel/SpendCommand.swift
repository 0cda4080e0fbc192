import ArgumentParser
import Foundation
import Simulator
import Support
import VideoAPI
import Workflow

/// `reel spend`: the ledger of what runs submitted, from the journal.
struct SpendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spend",
        _superCommandName: "reel",
        abstract: "Seconds of video generated, reused, failed and unknown, from the journal.",
        discussion: """
            - Generated: submitted by the run and downloaded, or still running (paid for).
            - Reused: taken from an earlier run's journal (saved, not paid again).
            - Failed: the gateway created the task and it failed (it may be billed).
            - Unknown: sent, but the outcome was never learned (it may be billed).

            With prices set (reel.json, REEL_PRICES_…, --price), each column also shows money, counted at today's prices (the journal keeps seconds, not what a price was then).

            Takes on reel's built-in simulator are test patterns and bill nothing: they are left out of the table (a line below says how many) and listed with --backend simulator, never priced. A gateway on loopback (`reel simulator`, or a local proxy in front of a paid one) counts as a gateway. An extension counts as the 7 s upstream adds to its source, whatever its 'duration' said.

            Examples:
              reel spend
              reel spend --since 2026-11-01 --by day
              reel spend --by run --json
              reel spend --backend simulator
              reel spend --backend https://gateway.example.com
            """
    )

    enum Grouping: String, CaseIterable, ExpressibleByArgument {
        case model, run, day
    }

    @OptionGroup var state: StateOptions

    @Option(help: ArgumentHelp("Only runs started on or after this day (YYYY-MM-DD, local time).", valueName: "date"))
    var since: String?

    @Option(help: ArgumentHelp("One line per model, run or day."))
    var by: Grouping = .model

    @Option(help: ArgumentHelp("Whose takes to count: 'gateway' (every gateway; the built-in simulator left out), 'simulator' (reel's built-in one: seconds only, nothing billed), or one gateway's base URL.", valueName: "which"))
    var backend: String = "gateway"

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup(title: "Prices") var pricing: PriceOptions

    typealias Amount = Prices.Amount

    struct Totals {
        var generated = Amount(), reused = Amount(), failed = Amount(), unknown = Amount()
        var takes = 0
    }

    func validate() throws {
        if !["gateway", "simulator"].contains(backend), ClientConfiguration(baseURL: backend, apiKey: nil).baseURLProblem != nil {
            throw ValidationError("--backend takes gateway, simulator or a gateway's base URL such as https://gateway.example.com (got '\(backend)')")
        }
    }

    /// Whether `--backend` counts a take journaled under `gateway` (the row's gateway identity).
    private func counts(_ gateway: String) -> Bool {
        switch backend {
        case "gateway": gateway != SimulatorConfiguration.builtInIdentity
        case "simulator": gateway == SimulatorConfiguration.builtInIdentity
        default: gateway == ClientConfiguration(baseURL: backend, apiKey: nil).baseURL
        }
    }

    func run() async throws {
        // The built-in simulator bills nothing: its seconds are never priced.
        let prices = backend == "simulator" ? Prices() : try await pricing.prices()
        let start = try sinceSeconds()
        guard state.journalExists else {
            print(json ? "[]" : "Nothing spent yet: the journal (\(state.journalPath)) is empty.")
            return
        }
        let uses: [Journal.Use]
        do {
            uses = try state.openJournal().uses(since: start)
        } catch {
            printError("reel spend: cannot read the journal in \(state.directory): \(error)")
            throw ExitCode(ReelExit.usage)
        }
        let days = DateFormatter()
        days.dateFormat = "yyyy-MM-dd"
        var groups: [(String, Totals)] = []
        func add(_ key: String, _ change: (inout Totals) -> Void) {
            if let i = groups.firstIndex(where: { $0.0 == key }) { change(&groups[i].1) } else {
                var totals = Totals()
                change(&totals)
                groups.append((key, totals))
            }
        }
        var all = Totals()
        // The built-in simulator's takes when gateways are counted: said apart, below the table.
        var simulated = Totals()
        for use in uses {
            let key = switch by {
            case .model: use.task.model
            case .run: "run \(use.runID)"
            case .day: days.string(from: Date(timeIntervalSince1970: use.runStartedAt))
            }
            let seconds = use.task.countedSeconds
            let counted = counts(use.task.baseURL)
            let cost = counted ? prices.cost(of: use.task, seconds: seconds) : nil
            let change: (inout Totals) -> Void = { totals in
                totals.takes += 1
                if !use.created {
                    if use.task.state == .downloaded { totals.reused.add(seconds, cost) }
                    return
                }
                let state = use.task.state
                if state.isPaid { totals.generated.add(seconds, cost) }
                else if state.isOutcomeUnknown { totals.unknown.add(seconds, cost) }
                else if use.task.taskID != nil { totals.failed.add(seconds, cost) }
                // else: failed, refused before anything was created
            }
            guard counted else {
                if backend == "gateway" { change(&simulated) }
                continue
            }
            add(key, change)
            change(&all)
        }
        let simulatorNote = simulated.takes == 0 ? nil
            : "Not counted above: \(simulated.takes) take\(simulated.takes == 1 ? "" : "s") on reel's built-in simulator (\(simulated.generated.seconds) s generated, \(simulated.reused.seconds) s reused), which bills nothing; `reel spend --backend simulator` lists them."
        if let simulatorNote, json { printError("reel spend: \(simulatorNote)") }
        if json {
            func object(_ key: String, _ t: Totals) -> JSONValue {
                var fields: [(String, JSONValue)] = [(by.rawValue, .string(key))]
                for (name, amount) in [("generated", t.generated), ("reused", t.reused), ("failed", t.failed), ("unknown", t.unknown)] {
                    fields.append(("\(name)_seconds", .int(amount.seconds)))
                    if !prices.isEmpty { fields.append(("\(name)_cost", amount.cost.map { .double(($0 * 1e6).rounded() / 1e6) } ?? .null)) }
                }
                fields.append(("takes", .int(Int64(t.takes))))
                if !prices.isEmpty { fields.append(("currency", .string(prices.currency))) }
                return .object(fields)
            }
            print(JSONValue.array(groups.map(object) + [object("total", all)]).pretty())
            return
        }
        func cell(_ amount: Amount) -> String {
            prices.isEmpty ? "\(amount.seconds) s" : "\(amount.seconds) s \(amount.cost.map(prices.format) ?? "(no price)")"
        }
        let headers = ["generated", "reused (saved)", "failed", "unknown"]
        let rows = (groups + [("total", all)]).map { key, t in (key, [t.generated, t.reused, t.failed, t.unknown].map(cell)) }
        let width = max(10, (groups.map(\.0.count) + [5]).max()!)
        let widths = headers.indices.map { i in max(headers[i].count, rows.map { $0.1[i].count }.max() ?? 0) }
        func line(_ key: String, _ cells: [String]) -> String {
            ([key.padding(toLength: width, withPad: " ", startingAt: 0)] + cells.indices.map { cells[$0].leftPad(widths[$0]) }).joined(separator: "  ")
        }
        print(line(by.rawValue, headers))
        for (key, cells) in rows { print(TerminalText.escaped(line(key, cells))) }
        print(backend == "simulator" ? "Seconds of video on reel's built-in simulator: test patterns, nothing billed."
            : prices.isEmpty
            ? "Seconds of video. Set prices (reel.json, REEL_PRICES_…, --price) to see money too."
            : "Seconds of video, and money at the prices set now (\(prices.currency)); a model without a price shows none.")
        if let simulatorNote { print(simulatorNote) }
    }

    private func sinceSeconds() throws -> Double {
        guard let since else { return 0 }
        let format = DateFormatter()
        format.dateFormat = "yyyy-MM-dd"
        guard let date = format.date(from: since) else {
            throw ValidationError("--since must be a day as YYYY-MM-DD (got \(since))")
        }
        return date.timeIntervalSince1970
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
