import Foundation
import Testing

/// What the journal records of a request, and rows written before it recorded the body sent:
/// those are still reused without a POST and read the same by history, the ledger and the gallery.
@Suite struct JournalFormatCLITests {
    static let script = """
        local v = image_to_video{ prompt = "an old row", image = "still.png", seed = 7, generate_audio = true, duration = 4 }
        log("sent image: " .. v.request.image)
        """

    static func journal(_ dir: URL, _ sql: String) async throws -> String {
        try await GalleryCLITests.journal(dir, sql)
    }

    /// Everything the readers of the journal print for it (the gallery's page as a file).
    static func readings(_ dir: URL) async throws -> [String] {
        let page = dir.appendingPathComponent("page.html")
        var readings: [String] = []
        for arguments in [["history"], ["history", "--json"], ["spend"], ["gallery", "-o", page.path]] {
            let result = try await CLI.run(arguments, in: dir)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            readings.append(result.stdout)
        }
        readings.append(try String(contentsOf: page, encoding: .utf8))
        return readings
    }

    @Test func aVideosRequestIsTheBodySentWithItsLocalFileByContentHash() async throws {
        let dir = try HostileConditionsTests.scratch(Self.script)
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.still(in: dir)
        let run = try await CLI.run(["run", "s.lua", "--latency", "0"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let digest = try await Shell.run("/usr/bin/env", ["sha256sum", dir.appendingPathComponent("still.png").path]).prefix(64)
        #expect(run.stderr.contains("[log] sent image: sha256:\(digest)"), "\(run.stderr)")
        #expect(try await Self.journal(dir, "SELECT json_extract(sent, '$.image') FROM task") == "sha256:\(digest)")
        // The typed record keeps the file's path beside its hash (the gallery's copy call names it).
        #expect(try await Self.journal(dir, "SELECT json_extract(request, '$.image.sha256') FROM task") == String(digest))
        let history = try await CLI.run(["history"], in: dir).stdout
        #expect(history.contains("seed 7"), "\(history)")
    }

    /// A row as reel wrote it before the body sent was journaled (no `sent` column, the request
    /// in the plan's display form) is reused with no POST, and every reader reads it as it
    /// reads a row written now.
    @Test func aRowJournaledInTheEarlierFormatIsReusedAndReadTheSame() async throws {
        let dir = try HostileConditionsTests.scratch(Self.script)
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.still(in: dir)
        let first = try await CLI.run(["run", "s.lua", "--latency", "0"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let now = try await Self.readings(dir)

        let model = try await Self.journal(dir, "SELECT model FROM task")
        let size = try await Self.journal(dir, "SELECT json_extract(request, '$.size') FROM task")
        let path = try await Self.journal(dir, "SELECT json_extract(request, '$.image.file') FROM task")
        let bytes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("still.png").path)[.size] as! Int
        #expect(path.hasSuffix("still.png"))
        let earlier = #"{"model":"\#(model)","prompt":"an old row","image":"data:image/png;base64,…(local file \#(path), \#(bytes) bytes)","size":"\#(size)","duration":4,"extra_body":{"generate_audio":true,"seed":7}}"#
        _ = try await Self.journal(dir, """
            ALTER TABLE task DROP COLUMN sent;
            DELETE FROM grdb_migrations WHERE identifier = 'v5: the body sent';
            UPDATE task SET request = '\(earlier)';
            """)
        #expect(try await Self.journal(dir, "SELECT request FROM task") == earlier)

        let then = try await Self.readings(dir)
        #expect(then[0] == now[0], "history")
        #expect(then[2] == now[2], "spend (audio priced as asked)")
        #expect(then[4] == now[4], "gallery page")
        // --json shows the body as journaled: the file by its path then, by its hash now.
        #expect(then[1].contains(#""seed": 7"#) && then[1].contains("local file \(path)"), "\(then[1])")

        let again = try await CLI.run(["run", "s.lua", "--latency", "0"], in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("0 videos generated") && again.stdout.contains("1 reused"), "\(again.stdout)")
        #expect(again.stderr.contains("[log] sent image: data:image/png;base64,…(local file \(path)"), "\(again.stderr)")
        #expect(try await Self.journal(dir, "SELECT count(*) FROM task") == "1")
    }

    /// The gallery follows a chain through the typed inputs it reads from the journal: an
    /// extension's source video by URL, a shot from a last frame by that frame's file.
    @Test func theGalleryFollowsAChainThroughExtensionsAndLastFrames() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local first = text_to_video{ prompt = "a kite rises", duration = 4 }
            local longer = extend(first, "the kite loops")
            local next = image_to_video{ prompt = "the kite lands", image = last_frame(longer), duration = 4 }
            text_to_video{ prompt = "unrelated", duration = 4 }
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua", "--latency", "0"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let page = try String(contentsOf: dir.appendingPathComponent("out/gallery.html"), encoding: .utf8)
        #expect(page.components(separatedBy: "Chain from").count - 1 == 1, "one chain")
        #expect(page.contains("text_to_video → extend → image_to_video"), "its three steps in order")
    }

    static func still(in dir: URL) async throws {
        _ = try await Shell.run("/usr/bin/env", ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=0x40a060:s=320x180:d=1", "-frames:v", "1",
                                                 dir.appendingPathComponent("still.png").path])
    }
}
