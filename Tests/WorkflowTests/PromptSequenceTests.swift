import Foundation
import Testing
@testable import Workflow

/// Prompt sequences: fmt templates and --each rows (the CSV itself: ReelCLITests/CSVTableTests).
@Suite struct PromptSequenceTests {
    @Test func fmtFillsNamesFromATable() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let logs = try await h.run("""
            log(fmt("a {animal} at {time}", { animal = "fox", time = "dawn" }))
            log(fmt("{n} takes, {{literal}} braces, ok={ok}", { n = 3, ok = true }))
            local ok, err = pcall(function() return fmt("a {animal} at {time}", { animal = "fox" }) end)
            log(ok, err.code, tostring(err))
            ok, err = pcall(function() return fmt("unclosed {brace", {}) end)
            log(ok, err.code, tostring(err))
            log(reel.fmt == fmt)
            """).logs
        #expect(logs == [
            "[log] a fox at dawn",
            "[log] 3 takes, {literal} braces, ok=true",
            "[log] false\tinvalid_request\tscript.lua:3: fmt: no value for {time} (the table has animal)",
            "[log] false\tinvalid_request\tscript.lua:5: fmt: a '{' is never closed (write {{ for a literal brace)",
            "[log] true",
        ])
    }

    @Test func eachRowRunsWithItsOwnArgs() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let path = try h.write("row.lua", "text_to_video{ prompt = fmt('{animal} at {time}', args) }")
        let dry = DryRunGenerator()
        var options = WorkflowOptions(scriptPath: path, arguments: ["time": "noon"])
        options.scriptName = "row.lua"
        let failures = await WorkflowRunner.runEach(options, rows: [["animal": "fox"], ["animal": "owl", "time": "dusk"]],
                                                    concurrency: 2, generator: dry, reporter: RecordingReporter())
        #expect(failures.isEmpty)
        #expect(Set(dry.requests.map(\.prompt)) == ["fox at noon", "owl at dusk"])
    }
}
