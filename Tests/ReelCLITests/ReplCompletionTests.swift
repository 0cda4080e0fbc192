import Testing
import VideoAPI
import Workflow
@testable import reel

/// Tab completes from the declarations: every function, and every option a call takes.
@Suite struct ReplCompletionTests {
    @Test func functionsComeFromTheDeclarations() {
        let candidates = Set(ReplCompletion.complete("", cursor: 0).candidates)
        #expect(Set(LuaFunction.names).isSubset(of: candidates))
    }

    @Test func optionsComeFromTheDeclarations() {
        let text = "concat(clips, { "
        let candidates = Set(ReplCompletion.complete(text, cursor: text.count).candidates)
        let declared = LuaAPI.functions.flatMap(\.declaredOptions).map { $0.name + " = " }
        #expect(!declared.isEmpty)
        #expect(Set(declared).isSubset(of: candidates))
        #expect(Set(RequestOptions.luaNames.map { $0 + " = " }).isSubset(of: candidates))
    }
}
