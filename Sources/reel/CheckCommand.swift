import ArgumentParser
import Console
import Support
import Workflow
import VideoAPI

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        _superCommandName: "reel",
        abstract: "Dry-run a script: validate every request and print the plan. Sends nothing.",
        discussion: "Reports every invalid call, each at its script line, and exits 1 if there was one; 0 when every request is valid. Warnings are printed but do not fail the check."
    )

    @OptionGroup var script: ScriptOptions

    // `run`'s own options are accepted and ignored, so a run line works with `check` in
    // place of `run` (nothing is sent either way).
    @OptionGroup(visibility: .hidden) var live: LiveSetup
    @Flag(name: .customLong("dry-run"), help: .hidden) var dryRun = false
    @Flag(help: .hidden) var fresh = false
    @Flag(name: .customLong("no-gallery"), help: .hidden) var noGallery = false

    func run() async throws {
        Project.search(fromScript: script.script)
        for line in live.dryAnnouncement(subject: "check", out: script.output.explicitDirectory) { print(TerminalText.escaped(line)) }
        let reporter = CountingReporter(ProgressDisplay(style: script.quiet ? .quiet : .lines))
        var options = try await script.workflowOptionsWithBudget()
        let generator = DryRunGenerator(budget: options.budget, holdings: RunEstimate.holdings(live))
        options.reportEveryInvalidCall = true
        let failures = try await script.execute(options, generator: generator, reporter: reporter, concurrency: 1)
        if let code = script.report(failures) { throw code }
        let plan = generator.plan
        print(plan.rendered(prices: options.budget.prices), terminator: "")
        // A refusal the script collects or catches is no error, but the check says so.
        let held = plan.held.isEmpty ? "" : " (\(plan.held.count) held by the journal, \(plan.requests.count - plan.held.count) to generate)"
        let refused = plan.refusedSummary.map { ", \($0)" } ?? ""
        print("check: ok — \(plan.requests.count) request\(plan.requests.count == 1 ? "" : "s")\(held)\(refused), \(reporter.warnings) warning\(reporter.warnings == 1 ? "" : "s")")
    }
}
