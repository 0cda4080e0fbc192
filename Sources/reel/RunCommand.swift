import ArgumentParser
import Workflow

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow script.",
        discussion: """
            Examples:
              reel run scripts/generate_then_extend.lua
              reel run scripts/prompt_sweep.lua subject=lighthouse --concurrency 8
              reel run --dry-run scripts/reference_images.lua
            """
    )

    @OptionGroup var script: ScriptOptions

    @Flag(name: .customLong("dry-run"), help: "Validate and print the plan; send nothing.")
    var dryRun = false

    func run() async throws {
        guard dryRun else {
            printError("reel: live runs need the HTTP client, which is not built yet; use --dry-run")
            throw ExitCode(ReelExit.usage)
        }
        let generator = DryRunGenerator()
        do {
            try await WorkflowRunner.run(try script.workflowOptions(), generator: generator, reporter: LineReporter(quiet: script.quiet))
        } catch let failure as WorkflowFailure {
            throw script.report(failure)
        }
        print(Plan(requests: generator.requests, savedPaths: generator.savedPaths).rendered(), terminator: "")
    }
}
