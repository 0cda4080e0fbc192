import Foundation
import Workflow

/// What a live run is shown spending against: the script's own dry pass, made before the
/// first request. The pass leaves no trace (nothing printed, written or run: `applyPreview`)
/// and is given a few seconds; a script that cannot be previewed that way — it writes files,
/// reads standard input, loops on results — simply runs without an estimate.
enum RunEstimate {
    static let timeLimit: Duration = .seconds(3)

    /// Makes the pass and shows its plan: one line now, and spending against it from then on.
    static func announce(_ script: ScriptOptions, options: WorkflowOptions, on display: ProgressDisplay) async {
        let prices = options.budget.prices
        let plan = await plan(script, options: options)
        display.showSpending(prices: prices, plan: plan)
        guard let plan, !plan.requests.isEmpty else { return }
        let cost = prices.isEmpty ? "" : plan.totalCost(prices).map { " (\(prices.format($0)))" } ?? " (some models have no price)"
        display.log("reel: the script plans \(plan.requests.count) generation\(plan.requests.count == 1 ? "" : "s"), \(plan.totalSeconds) s of video\(cost); what the journal holds is reused, not paid again")
    }

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
