import Testing
import Workflow

@Suite struct TakeLabelTests {
    /// A take's label: the script line's file name, the prompt cut at 24 characters (not
    /// bytes), the seed.
    @Test func aLabelNamesTheLineThePromptAndTheSeed() {
        #expect(TakeLabel.make(prompt: "a lighthouse", seed: nil, callSite: "scripts/sweep.lua:4") == "sweep.lua:4 \"a lighthouse\"")
        let twentyFour = String(repeating: "x", count: 24)
        #expect(TakeLabel.make(prompt: twentyFour, seed: "7", callSite: nil) == "\"\(twentyFour)\" seed 7")
        #expect(TakeLabel.make(prompt: twentyFour + "y", seed: nil, callSite: "s.lua:1") == "s.lua:1 \"\(String(repeating: "x", count: 23))…\"")
        let emoji = String(repeating: "🎬", count: 24)  // 96 bytes, 24 characters: not cut
        #expect(TakeLabel.make(prompt: emoji, seed: nil, callSite: nil) == "\"\(emoji)\"")
    }
}
