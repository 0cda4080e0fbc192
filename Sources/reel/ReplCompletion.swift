import Foundation
import VideoAPI
import Workflow

/// What Tab completes in `reel repl`, from the same tables the validator and the docs use:
/// reel's functions and Lua's own globals; option names inside a call's `{…}`; a Video's or
/// an Image's fields after `.` and its methods after `:`; model names inside `model = "…"`.
enum ReplCompletion {
    static let luaGlobals = ["print", "pairs", "ipairs", "tostring", "tonumber", "type", "pcall", "error", "assert", "select",
                             "string", "table", "math", "os", "io", "require", "args", "reel", "tasks",
                             "local", "function", "return", "end", "then", "else", "elseif", "for", "while", "repeat", "until", "nil", "true", "false"]

    static func complete(_ text: String, cursor: Int) -> LineEditor.Completion {
        let characters = Array(text)
        let before = String(characters[..<cursor])
        // A model name inside model = "…
        if let quote = before.lastIndex(where: { $0 == "\"" || $0 == "'" }),
           before[..<quote].range(of: #"model\s*=\s*$"#, options: .regularExpression) != nil,
           !before[before.index(after: quote)...].contains(where: { $0 == "\"" || $0 == "'" }) {
            let start = before.distance(from: before.startIndex, to: before.index(after: quote))
            return LineEditor.Completion(start: start, candidates: Capabilities.models.map(\.name))
        }
        var start = cursor
        while start > 0 && LineEditor.isWord(characters[start - 1]) { start -= 1 }
        let previous = start > 0 ? characters[start - 1] : " "
        if previous == "." {
            return LineEditor.Completion(start: start, candidates: Array(Set(LuaAPI.videoFields.map(\.name) + LuaAPI.imageFields.map(\.name))).sorted())
        }
        if previous == ":" {
            return LineEditor.Completion(start: start, candidates: ["info", "save"])
        }
        // Inside an unclosed { at a key's place: the options a call takes.
        let opened = before.filter { $0 == "{" }.count - before.filter { $0 == "}" }.count
        let keyPlace = before[..<before.index(before.startIndex, offsetBy: start)].trimmingCharacters(in: .whitespaces).last.map { $0 == "{" || $0 == "," } ?? false
        if opened > 0 && keyPlace {
            let declared = LuaAPI.functions.flatMap(\.declaredOptions).map(\.name).filter { !RequestOptions.luaNames.contains($0) }
            return LineEditor.Completion(start: start, candidates: (RequestOptions.luaNames + declared).map { $0 + " = " })
        }
        let functions = LuaFunction.names
        return LineEditor.Completion(start: start, candidates: Array(Set(functions + luaGlobals)).sorted())
    }
}
