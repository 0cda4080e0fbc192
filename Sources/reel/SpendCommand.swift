import ArgumentParser
import Foundation
import VideoAPI
import Workflow

/// `reel spend`: the ledger of what runs submitted, from the journal.
struct SpendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spend",
        abstract: "Seconds of video generated, reused, failed and unknown, from the journal.",
        discussion: """
            Generated: submitted by the run and downloaded, or still running (paid for).
            Reused: taken from an earlier run's journal (saved, not paid again).
            Failed: the gateway created the task and it failed (it may be billed).
            Unknown: sent, but the outcome was never learned (it may be billed).

            Examples:
              reel spend
              reel spend --since 2026-11-01 --by day
              reel spend --by run --json
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

    @Flag(help: "Print JSON.")
    var json = false

    struct Totals {
        var generated: Int64 = 0, reused: Int64 = 0, failed: Int64 = 0, unknown: Int64 = 0
        var takes = 0
    }

    func run() throws {
        let start = try sinceSeconds()
        guard state.journalExists else {
            print(json ? "[]" : "Nothing spent yet: the journal (\(state.journalPath)) is empty.")
            return
        }
        let uses: [Journal.Use]
        do {
            uses = try Journal(directory: state.directory).uses(since: start)
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
        for use in uses {
            let key = switch by {
            case .model: use.task.model
            case .run: "run \(use.runID)"
            case .day: days.string(from: Date(timeIntervalSince1970: use.runStartedAt))
            }
            let seconds = use.task.seconds
            let change: (inout Totals) -> Void = { totals in
                totals.takes += 1
                if !use.created {
                    if use.task.state == .downloaded { totals.reused += seconds }
                    return
                }
                switch use.task.state {
                case .downloaded, .succeeded, .submitted, .queued, .running: totals.generated += seconds
                case .failed where use.task.taskID != nil: totals.failed += seconds
                case .unknown, .submitting: totals.unknown += seconds
                case .failed: break  // refused before anything was created
                }
            }
            add(key, change)
            change(&all)
        }
        if json {
            func object(_ key: String, _ t: Totals) -> JSONValue {
                .object([(by.rawValue, .string(key)), ("generated_seconds", .int(t.generated)), ("reused_seconds", .int(t.reused)),
                         ("failed_seconds", .int(t.failed)), ("unknown_seconds", .int(t.unknown)), ("takes", .int(Int64(t.takes)))])
            }
            print(JSONValue.array(groups.map(object) + [object("total", all)]).pretty())
            return
        }
        let width = max(10, (groups.map(\.0.count) + [5]).max()!)
        print("\(by.rawValue.padding(toLength: width, withPad: " ", startingAt: 0))  generated    reused (saved)  failed  unknown")
        for (key, t) in groups + [("total", all)] {
            let cells = [t.generated, t.reused, t.failed, t.unknown].map { "\($0) s" }
            print("\(key.padding(toLength: width, withPad: " ", startingAt: 0))  \(cells[0].leftPad(9))  \(cells[1].leftPad(14))  \(cells[2].leftPad(6))  \(cells[3].leftPad(7))")
        }
        print("Seconds of video. Money is not shown: reel does not know prices yet.")
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
