import Console
import Foundation
import LuaRuntime
import Simulator
import Support
import VideoAPI
import Workflow

/// What a live run is shown spending against: the script's own dry pass, made before the
/// first request. The pass leaves no trace (nothing printed, written or run: `applyPreview`)
/// and is given a few seconds; a script that cannot be previewed that way — it writes files,
/// reads standard input, loops on results — simply runs without an estimate. The plan counts
/// what the journal already holds (free) apart from what is to be generated, and what the
/// run's budget will refuse.
enum RunEstimate {
    static let timeLimit: DispatchTimeInterval = .seconds(3)

    /// Makes the pass and shows its plan: one line now, and spending against it from then on.
    /// `billed`: false on the built-in simulator, where no money is shown.
    static func announce(_ script: ScriptOptions, options: WorkflowOptions, holdings: JournalHoldings?, billed: Bool,
                         on display: ProgressDisplay) async {
        let prices = billed ? options.budget.prices : Prices()
        let plan = await plan(script, options: options, holdings: holdings)
        display.showSpending(prices: prices, plan: plan, billed: billed)
        guard let plan, !plan.requests.isEmpty || !plan.refused.isEmpty else { return }
        display.log("reel: " + describe(plan, prices: prices, billed: billed))
    }

    /// "the script plans 6 generations: 4 held by the journal (reused, free), 2 to generate,
    /// 12 s of video (1.20 USD); 2 refused by the budget (s.lua:7, s.lua:8)".
    static func describe(_ plan: Plan, prices: Prices, billed: Bool) -> String {
        let toGenerate = plan.totalToGenerate(prices)
        var amount = "\(toGenerate.seconds) s of video"
        if !prices.isEmpty { amount += toGenerate.cost.map { " (\(prices.format($0)))" } ?? " (some models have no price)" }
        let count = plan.requests.count
        var text = "the script plans \(count) generation\(count == 1 ? "" : "s")"
        text += plan.held.isEmpty ? ", \(amount)"
            : ": \(plan.held.count) held by the journal (reused, free), \(count - plan.held.count) to generate, \(amount)"
        if let refused = plan.refusedSummary { text += "; \(refused)" }
        if !billed { text += "; on the built-in simulator nothing is billed" }
        return text
    }

    /// What the journal holds for the gateway `live` names, read before anything runs (nil: no
    /// journal yet, or one that cannot be read at once: every request then counts as to be
    /// generated). Needs no key: `reel check` looks too.
    static func holdings(_ live: LiveSetup) -> JournalHoldings? {
        guard live.state.journalExists, let journal = try? Journal(directory: live.stateDirectory, patience: 1) else { return nil }
        return JournalHoldings(journal: journal, gatewayIdentity: live.journalIdentity)
    }

    static func plan(_ script: ScriptOptions, options: WorkflowOptions, holdings: JournalHoldings?) async -> Plan? {
        var preview = options
        preview.preview = true
        preview.reportEveryInvalidCall = false
        // The run's caps, nothing reserved: the pass refuses what the run will.
        preview.budget = options.budget.unused()
        let generator = DryRunGenerator(budget: preview.budget, holdings: holdings)
        let settings = preview
        let pass = Task { [script] in
            guard let failures = try? await script.execute(settings, generator: generator, reporter: Silent(), concurrency: 1) else { return false }
            // A script that stops at a budget refusal stops there in the run too: the plan stands.
            return failures.allSatisfy { Self.isBudgetRefusal($0.failure) }
        }
        // The limit runs on a Dispatch thread, not as a sleeping task: Swift's executor is one
        // thread (EventLoopExecutor), and a script spinning in pure Lua holds it, so a sleep
        // there would not wake before the spin ends. Cancelling the pass reaches the Lua
        // state's hook (LuaState.run), which stops the script at its next instruction.
        let cut = DispatchWorkItem { pass.cancel() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit, execute: cut)
        let finished = await withTaskCancellationHandler { await pass.value } onCancel: { pass.cancel() }
        cut.cancel()
        return finished && !pass.isCancelled ? generator.plan : nil
    }

    static func isBudgetRefusal(_ failure: WorkflowFailure) -> Bool {
        guard case .script(let error) = failure else { return false }
        return error.value.tableValue?["code"].stringValue == "budget"
    }

    private struct Silent: RunReporter {
        func log(_ line: String) {}
        func warning(_ line: String) {}
    }
}
