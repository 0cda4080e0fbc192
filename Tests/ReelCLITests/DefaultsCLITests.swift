import Foundation
import Testing

/// The default model and options, from every place they can be set, get the suggestion a
/// call's own misspelling gets.
@Suite struct DefaultsCLITests {
    /// A near-miss of the fast tier suggests the fast tier, not the pricier standard one.
    @Test func aMisspeltModelFromTheCommandLineOrEnvironmentGetsItsOwnTier() async throws {
        let dir = try HostileConditionsTests.scratch("text_to_video{ prompt = 'x' }")
        defer { try? FileManager.default.removeItem(at: dir) }
        for command in [["check", "s.lua"], ["run", "--dry-run", "s.lua"], ["repl", "--dry-run"]] {
            let flag = try await CLI.run(command + ["--model", "veo3.1-fast-720p"], in: dir)
            #expect(flag.status == 2, "\(command)")
            #expect(flag.stderr.contains("--model: unknown model 'veo3.1-fast-720p' (did you mean 'veo3.1-fast-video-720p'?)"), "\(command): \(flag.stderr)")
            let variable = try await CLI.run(command, in: dir, environment: ["REEL_MODEL": "veo3.1-fast-720p"])
            #expect(variable.status == 2, "\(command)")
            #expect(variable.stderr.contains("REEL_MODEL: unknown model 'veo3.1-fast-720p' (did you mean 'veo3.1-fast-video-720p'?)"), "\(command): \(variable.stderr)")
        }
    }

    @Test(arguments: [
        ("defaults{ model = 'veo3.1-fast-720p' }", "error: s.lua:1: defaults: unknown model 'veo3.1-fast-720p' (did you mean 'veo3.1-fast-video-720p'? see `reel models`)"),
        ("defaults{ model = 'veo3.1-video-8k' }", "error: s.lua:1: defaults: unknown model 'veo3.1-video-8k' (did you mean 'veo3.1-video-4k'? see `reel models`)"),
        ("defaults{ durration = 8 }", "error: s.lua:1: defaults: unknown option 'durration' (did you mean 'duration'?)"),
        ("defaults{ aspect = '9:16' }", "error: s.lua:1: defaults: unknown option 'aspect' (did you mean 'aspect_ratio'?)"),
    ])
    func aMisspeltDefaultGetsTheSuggestionACallWould(line: String, message: String) async throws {
        let dir = try HostileConditionsTests.scratch(line + "\ntext_to_video{ prompt = 'x' }")
        defer { try? FileManager.default.removeItem(at: dir) }
        for command in [["check", "s.lua"], ["run", "--dry-run", "s.lua"]] {
            let result = try await CLI.run(command, in: dir)
            #expect(result.status == 1, "\(command)")
            #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == message, "\(command): \(result.stderr)")
        }
    }
}
