import Foundation
import LuaRuntime
import Testing
import VideoAPI
@testable import Workflow

/// Each function's declaration is what a script meets: its options are accepted and checked
/// as declared, its misuse raises one kind of error, and every derived list names exactly
/// what a live Lua state holds.
@Suite struct DeclarationTests {
    /// A call of a function with options, `OPTS` standing for the options table.
    static func call(_ function: LuaFunction.Library) -> String? {
        switch function {
        case .concat: "concat({ text_to_video 'a', text_to_video 'b' }, OPTS)"
        case .trim: "trim(text_to_video 'a', OPTS)"
        case .map: "map({ 1, 2 }, function(x) return x end, OPTS)"
        case .budget: "budget(OPTS)"
        case .defaults: "defaults(OPTS)"
        case .generate, .lastFrame, .frame, .seams, .parallel, .spawn, .sleep, .log, .fmt: nil
        }
    }

    /// A value the option takes.
    static func sample(_ option: LuaOption) -> String {
        switch option.kind {
        case .number(let bounds), .integer(let bounds): String(Int(bounds.minimum ?? 0) + 1)
        case .choice(let values): "'\(values.last!)'"
        }
    }

    /// Every option a function declares, as (name, a value it takes) — `defaults` takes the request's.
    static func options(of function: LuaFunction.Library) -> [(String, String)] {
        if function == .defaults {
            return RequestOptions.all.map { option in
                (option.name, option.name == "model" ? "'\(Capabilities.defaultModelName)'" : "'x'")
            }
        }
        return LuaAPI.function(.library(function)).declaredOptions.map { ($0.name, sample($0)) }
    }

    static let functionsWithOptions = LuaFunction.Library.allCases.filter { call($0) != nil }

    @Test(arguments: functionsWithOptions)
    func everyDeclaredOptionIsAcceptedAndAMisspeltOneRefused(function: LuaFunction.Library) async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let options = Self.options(of: function)
        #expect(!options.isEmpty)
        for (name, value) in options {
            let line = Self.call(function)!.replacingOccurrences(of: "OPTS", with: "{ \(name) = \(value) }")
            let reporter = try await h.run("local ok, err = pcall(function() return \(line) end)\nlog(ok, ok or tostring(err))")
            #expect(reporter.logs == ["[log] true\ttrue"], "\(line): \(reporter.logs)")
        }
        // A letter doubled in the last option: refused, with it suggested.
        let name = options.last!.0
        let misspelt = name + String(name.last!)
        let line = Self.call(function)!.replacingOccurrences(of: "OPTS", with: "{ \(misspelt) = 1 }")
        let reporter = try await h.run("local ok, err = pcall(function() return \(line) end)\nlog(ok, type(err), err.code, err.message)")
        let expected = "\(function.rawValue): unknown option '\(misspelt)' (did you mean '\(name)'?)"
        #expect(reporter.logs.count == 1 && reporter.logs[0].hasPrefix("[log] false\ttable\tinvalid_request\t\(expected)"), "\(reporter.logs)")
    }

    /// Out of range and mistyped values, in the one grammar `function: message`.
    @Test func aDeclaredOptionRefusesWhatItDoesNotTake() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let cases: [(String, String)] = [
            ("budget{ seconds = -5 }", "budget: 'seconds' must be 0 or more (got -5)"),
            ("budget{ seconds = 'ten' }", "budget: 'seconds' must be a whole number (got string \"ten\")"),
            ("budget{ seconds = 2.5 }", "budget: 'seconds' must be a whole number (got 2.5)"),
            ("budget(5)", "budget: argument 1 must be an options table (got number)"),
            ("concat({ text_to_video 'a' }, { fade = 7 })", "concat: 'fade' must be more than 0 and at most 5 (got 7)"),
            ("concat({ text_to_video 'a' }, { transition = 'wipe' })", "concat: 'transition' must be \"cut\" or \"fade\" (got \"wipe\")"),
            ("trim(text_to_video 'a', { from = -1 })", "trim: 'from' must be 0 or more (got -1)"),
            ("map({ 1 }, print, { concurrency = 0 })", "map: 'concurrency' must be 1 or more (got 0)"),
            ("map({ 1 }, print, { errors = 'ignore' })", "map: 'errors' must be \"raise\" or \"collect\" (got \"ignore\")"),
            ("map({ 1 }, print, { concurency = 2 })", "map: unknown option 'concurency' (did you mean 'concurrency'?); it takes concurrency, errors"),
        ]
        for (line, expected) in cases {
            let reporter = try await h.run("local ok, err = pcall(function() return \(line) end)\nlog(ok, err.code, tostring(err))")
            #expect(reporter.logs == ["[log] false\tinvalid_request\tscript.lua:1: \(expected)"], "\(line)")
        }
    }

    /// Defaults come from the declaration: a fade without a length lasts 0.5 s.
    @Test func aDeclaredDefaultIsUsed() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let generator = DryRunGenerator()
        try await h.run("concat({ text_to_video 'a', text_to_video 'b' }, { transition = 'fade' })", generator: generator)
        let fade = LuaAPI.function(.library(.concat)).declaredOptions.first { $0.name == "fade" }?.defaultValue?.numberValue
        #expect(fade != nil)
        #expect(generator.mediaSteps.map(\.summary).contains { $0.contains("(fade \(fade ?? -1) s)") }, "\(generator.mediaSteps)")
    }

    /// A call each function refuses; nil for `log`, which takes anything.
    static func misuse(_ function: LuaFunction) -> String? {
        switch function {
        case .generation(.extend): "extend(42)"
        case .generation(let mode): "\(mode.luaFunction)(42)"
        case .library(.log): nil
        case .library(.sleep): "sleep('long')"
        case .library(.fmt): "fmt(42)"
        case .library(let other): "\(other.rawValue)(42)"
        }
    }

    @Test(arguments: LuaFunction.allCases.filter { misuse($0) != nil }.map(\.name))
    func everyFunctionsMisuseRaisesATableWithCode(name: String) async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let line = Self.misuse(LuaFunction(name: name)!)!
        let reporter = try await h.run("local ok, err = pcall(function() return \(line) end)\nlog(ok, type(err), type(err) == 'table' and err.code, type(err) == 'table' and err.where, tostring(err))")
        #expect(reporter.logs.count == 1 && reporter.logs[0].hasPrefix("[log] false\ttable\tinvalid_request\tscript.lua:1\tscript.lua:1: \(name): "),
                "\(line): \(reporter.logs)")
    }

    /// The names every derived list gives agree with what a live state registers.
    @Test func theDerivedListsAgreeWithALiveState() async throws {
        let h = try ScriptHarness(); defer { h.cleanUp() }
        let reporter = try await h.run("""
            local names = {}
            for name, value in pairs(require "reel") do
              if type(value) == "function" then names[#names + 1] = name end
            end
            table.sort(names)
            log(table.concat(names, " "))
            local globals = {}
            for _, name in ipairs(names) do
              if type(_G[name]) == "function" then globals[#globals + 1] = name end
            end
            log(table.concat(globals, " "))
            """)
        let live = Set(reporter.logs.first?.dropFirst("[log] ".count).split(separator: " ").map(String.init) ?? [])
        #expect(live == Set(LuaFunction.names))
        #expect(reporter.logs.dropFirst().first == reporter.logs.first, "every function of reel is a global too")

        let definitions = GeneratedDocs.luaLSDefinitions()
        let defined = definitions.split(separator: "\n").filter { $0.hasPrefix("function ") && !$0.contains(":") }
            .map { String($0.dropFirst("function ".count).prefix { $0 != "(" }) }
        #expect(Set(defined) == live)
        let luacheck = GeneratedDocs.luacheckConfig().split(separator: "\n").filter { $0.hasPrefix("  \"") }
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \",")) }
        #expect(Set(luacheck) == live.union(["args"]))
        let headings = GeneratedDocs.referenceMarkdown().split(separator: "\n").filter { $0.hasPrefix("## ") && $0.contains("(") }
            .map { String($0.dropFirst(3).prefix { $0 != "(" }) }
        #expect(Set(headings) == live)
        for name in live { #expect(LuaFunction.helpSentence.contains(name), "reel --help does not name \(name)") }
    }
}
