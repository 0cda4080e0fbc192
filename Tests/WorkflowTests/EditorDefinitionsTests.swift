import Foundation
import LuaRuntime
@testable import Support
import Testing
import VideoAPI
@testable import Workflow

/// The editor definitions and the reference cannot drift from the validator.
@Suite struct EditorDefinitionsTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs")

    /// The options a generation function accepts, found by asking the parser: each known name
    /// (and a decoy) is added to a minimal valid request with a sample value of its kind.
    static func accepted(by mode: GenerationMode?) throws -> Set<String> {
        let base: [(String, JSONValue)] = switch mode {
        case .text?, nil: [("prompt", "p")]
        case .image?: [("prompt", "p"), ("image", "https://x/a.png")]
        case .frames?: [("prompt", "p"), ("image", "https://x/a.png"), ("last_image", "https://x/b.png")]
        case .reference?: [("prompt", "p"), ("model", "veo3.1-video-720p"), ("images", ["https://x/a.png", "https://x/b.png"])]
        case .extend?: [("prompt", "p"), ("video", "https://x/v.mp4")]
        }
        let parser = RequestParser(caller: mode?.luaFunction ?? "generate", expectedMode: mode, source: .lua(baseDirectory: "/"))
        _ = try parser.parse(base)  // the base itself is valid
        var accepted = Set(base.map(\.0))
        for name in RequestOptions.luaNames + ["bogus", "Prompt"] where !accepted.contains(name) {
            let option = RequestOptions.named(name)
            let sample: JSONValue = switch option?.kind {
            case .integer?: option!.allowed.first.flatMap { Int64($0) }.map(JSONValue.int) ?? 1
            case .boolean?: true
            case .object?: .object([])
            case .mediaList?, .stringList?: ["https://x/a.png", "https://x/b.png"]
            case .media?: name == "last_image" ? "https://x/b.png" : "https://x/a.png"
            default: .string(option?.allowed.first ?? "x")
            }
            do {
                _ = try parser.parse(base + [(name, sample)])
                accepted.insert(name)
            } catch {
                if !error.problems.contains(where: { $0.contains("unknown option") || $0.contains("is not an option of") || $0.contains("give only one of") }) {
                    accepted.insert(name)  // known, just not valid with this sample
                }
            }
        }
        // extend takes its video as the first argument, not in the table.
        if mode == .extend { accepted.remove("video") }
        return accepted
    }

    /// `---@field` names of one class in the definitions.
    static func fields(of className: String, in text: String) -> Set<String> {
        guard let start = text.range(of: "---@class \(className)\n") else { return [] }
        var names = Set<String>()
        for line in text[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("---@field ") else { break }
            var name = String(line.dropFirst("---@field ".count).prefix { $0 != " " })
            if name.hasSuffix("?") { name.removeLast() }
            names.insert(name)
        }
        return names
    }

    @Test(arguments: [nil] + GenerationMode.allCases.map(Optional.some))
    func definitionsListExactlyWhatTheValidatorAccepts(mode: GenerationMode?) throws {
        let definitions = GeneratedDocs.luaLSDefinitions()
        let className = LuaAPI.optionsClass(for: mode)
        let listed = Self.fields(of: className, in: definitions)
        let accepted = try Self.accepted(by: mode)
        #expect(!listed.isEmpty)
        #expect(listed == accepted, "\(className): listed but refused \(listed.subtracting(accepted)), accepted but unlisted \(accepted.subtracting(listed))")
    }

    /// A Video carries exactly its documented fields: every one that is not optional has a value.
    @Test func aVideoHasEveryDocumentedField() throws {
        let request = try RequestParser(caller: "text_to_video", expectedMode: .text, source: .wire)
            .parse([("prompt", .string("p")), ("duration", .int(4))]).request
        let video = GeneratedVideo(id: "t1", url: "https://x/v.mp4", status: .succeeded, request: request, localPath: "out/t1.mp4", reused: true)
        for field in LuaAPI.videoFields {
            #expect(LuaVideo.value(of: field.name, in: LuaVideo.Handle(video, label: "s.lua:1 \"p\"")) != .nil, "\(field.name) is documented but never set")
        }
    }

    /// An Image carries its documented fields once made (a dry run's stand-in has no size).
    @Test func anImageHasEveryDocumentedField() throws {
        let clip = MediaClip(path: "/tmp/v.mp4", label: "s.lua:1", duration: 4)
        let output = MediaOutput(step: .lastFrame(clip), path: "/tmp/last.png", width: 320, height: 180, reused: true)
        for field in LuaAPI.imageFields {
            #expect(LuaImage.value(of: field.name, in: LuaImage.Handle(output, label: "last frame of s.lua:1")) != .nil, "\(field.name) is documented but never set")
        }
    }

    @Test func theCommittedCopiesAreCurrent() throws {
        let definitions = try String(contentsOf: Self.docs.appendingPathComponent(GeneratedDocs.definitionsFileName), encoding: .utf8)
        let reference = try String(contentsOf: Self.docs.appendingPathComponent(GeneratedDocs.referenceFileName), encoding: .utf8)
        #expect(definitions == GeneratedDocs.luaLSDefinitions(), "run `reel docs` and commit docs/")
        #expect(reference == GeneratedDocs.referenceMarkdown(), "run `reel docs` and commit docs/")
        let luacheck = try String(contentsOf: Self.docs.appendingPathComponent(GeneratedDocs.luacheckFileName), encoding: .utf8)
        #expect(luacheck == GeneratedDocs.luacheckConfig(), "run `reel docs` and commit docs/")
        let readme = try String(contentsOf: Self.docs.deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme == GeneratedDocs.updating(readme: readme), "run `reel docs --readme README.md` and commit it")
        for (name, _) in GeneratedDocs.readmeSections() {
            #expect(readme.contains("<!-- generated:\(name) -->"), "the README lost its generated section '\(name)'")
        }
    }

    /// luacheck (Debian's lua-check, installed by scripts/setup.sh) passes reel's own Lua and
    /// every example script with the generated configuration: the globals it declares are
    /// exactly the ones scripts use.
    @Test func luacheckPassesReelsLuaAndTheExamples() throws {
        guard let luacheck = ["/usr/bin/luacheck", "/usr/local/bin/luacheck"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("luacheck is not installed; run scripts/setup.sh")
            return
        }
        let root = Self.docs.deletingLastPathComponent()
        let examples = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("scripts").path)
            .filter { $0.hasSuffix(".lua") }.map { "scripts/" + $0 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: luacheck)
        process.arguments = ["--no-color", "--codes", "--config", "docs/.luacheckrc", "Sources/LuaRuntime/Lua/prelude.lua",
                             "Sources/LuaRuntime/Lua/sandbox.lua", "Sources/LuaRuntime/Lua/preview.lua"] + examples
        process.currentDirectoryURL = root
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
    }

    @Test func theDefinitionsAreValidLua() throws {
        let lua = try LuaState()
        #expect(lua.completeness(of: GeneratedDocs.luaLSDefinitions()) == .complete)
    }
}
