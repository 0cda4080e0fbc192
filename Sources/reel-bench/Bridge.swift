import CLua
import CLuaShim
import Foundation
import LuaRuntime
import Support
import VideoAPI
import Workflow

/// The cost of crossing from Lua into Swift, against a plain Lua C function in the same run.
enum BridgeBench {
    struct Result {
        /// Per call, the loop included (the same loop for all three).
        var swiftCallNanoseconds: Double
        var plainCallNanoseconds: Double
        var luaCallNanoseconds: Double
        var requestsPerSecondFromLua: Double
        var parsesPerSecond: Double
    }

    static func run(calls: Int) async throws -> Result {
        let lua = try LuaState()
        lua.register("swift_noop") { _ in .none }
        lua.withRawState { L in
            reel_push_plain_noop(L)
            lua_setglobal(L, "plain_noop")
        }
        func loop(_ body: String) async throws -> Double {
            var best = Double.infinity
            for _ in 0..<5 {  // best of five: the machine is shared and noisy
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try await lua.run("local f = \(body); for i = 1, \(calls) do f() end", chunkName: "=bench")
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start))
            }
            return best
        }
        let empty = try await loop("function() end")
        let swift = try await loop("swift_noop")
        let plain = try await loop("plain_noop")
        let swiftNs = swift / Double(calls)
        let plainNs = plain / Double(calls)
        let luaNs = empty / Double(calls)

        // Request building + validation from a Lua table, through text_to_video under the dry run.
        let dir = NSTemporaryDirectory() + "reel-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let requests = 20_000
        let script = dir + "/requests.lua"
        try """
            for i = 1, \(requests) do
              text_to_video{ prompt = "a lighthouse at dusk, take " .. i, model = "veo3.1-video-1080p",
                             aspect_ratio = "16:9", duration = 8, seed = i, generate_audio = true, negative_prompt = "blur" }
            end
            """.write(toFile: script, atomically: true, encoding: .utf8)
        final class Quiet: RunReporter { func log(_ line: String) {}; func warning(_ line: String) {} }
        let started = Date()
        try await WorkflowRunner.run(WorkflowOptions(scriptPath: script, outputDirectory: dir), generator: DryRunGenerator(), reporter: Quiet())
        let fromLua = Double(requests) / Date().timeIntervalSince(started)

        // The parser alone, from Swift.
        let options: [(String, JSONValue)] = [("prompt", "a lighthouse at dusk"), ("model", "veo3.1-video-1080p"), ("aspect_ratio", "16:9"),
                                              ("duration", 8), ("seed", 7), ("generate_audio", true), ("negative_prompt", "blur")]
        let parser = RequestParser(caller: "text_to_video", expectedMode: .text, source: .lua(baseDirectory: dir))
        let parseStart = Date()
        for _ in 0..<requests { _ = try parser.parse(options).request.body().encoded() }
        let parses = Double(requests) / Date().timeIntervalSince(parseStart)
        return Result(swiftCallNanoseconds: swiftNs, plainCallNanoseconds: plainNs, luaCallNanoseconds: luaNs,
                      requestsPerSecondFromLua: fromLua, parsesPerSecond: parses)
    }
}
