import Foundation
import Workflow

/// What a live run is shown spending against: the script's own dry pass, made before the
/// first request. The pass leaves no trace (nothing printed, written or run: `applyPreview`)
/// and is given a few seconds; a script that cannot be previewed that way — it writes files,
/// reads standard input, loops on results — simply runs without an estimate.
enum RunEstimate {
    static let timeLimit: DispatchTimeInterval = .seconds(3)

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
        let settings = preview
        let pass = Task { [script] in
            let failures = try? await script.execute(settings, generator: generator, reporter: Silent(), concurrency: 1)
            return failures?.isEmpty == true
        }
        // The limit runs on a Dispatch thread, not as a sleeping task: Swift's executor is one
        // thread (EventLoopExecutor), and a script spinning in pure Lua holds it, so a sleep
        // there would not wake before the spin ends. Cancelling the pass reaches the Lua
        // state's hook (LuaState.run), which stops the script at its next instruction.
        let cut = DispatchWorkItem { pass.cancel() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit, execute: cut)
        let finished = await withTaskCancellationHandler { await pass.value } onCancel: { pass.cancel() }
        cut.cancel()
        return finished && !pass.isCancelled ? Plan(requests: generator.requests) : nil
    }

    private struct Silent: RunReporter {
        func log(_ line: String) {}
        func warning(_ line: String) {}
    }
}
