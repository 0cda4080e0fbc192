import Foundation
import Workflow

/// What a live run is shown spending against: the script's own dry pass, made before the
/// first request. The pass leaves no trace (nothing printed, written or run: `applyPreview`)
/// and is given a few seconds; a script that cannot be previewed that way — it writes files,
/// reads standard input, loops on results — simply runs without an estimate.
enum RunEstimate {
    static let timeLimit: Duration = .seconds(3)

    static func plan(_ script: ScriptOptions, options: WorkflowOptions) async -> Plan? {
        var preview = options
        preview.preview = true
        preview.reportEveryInvalidCall = false
        // What the script asks for, uncapped: the run's own cap then stops what is past it.
        preview.budget = Budget(prices: options.budget.prices)
        let generator = DryRunGenerator(budget: preview.budget)
        let pass = preview
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { [script] in
                let failures = try? await script.execute(pass, generator: generator, reporter: Silent(), concurrency: 1)
                return failures?.isEmpty == true
            }
            group.addTask {
                try? await Task.sleep(for: timeLimit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        return finished ? Plan(requests: generator.requests) : nil
    }

    private struct Silent: RunReporter {
        func log(_ line: String) {}
        func warning(_ line: String) {}
    }
}
