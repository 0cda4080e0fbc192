import Foundation
import Testing

/// `reel gallery`'s page, opened in headless Chromium (Debian's `chromium`, installed by
/// scripts/setup.sh): its videos load, a 3 × 2 sweep is 3 rows × 2 columns, the filter hides
/// what it should, and a hostile prompt stays text.
@Suite struct GalleryBrowserTests {
    static let hostile = #"<img src=x onerror="document.body.dataset.pwned=1"><script>document.body.dataset.pwned=2</script> a fox"#

    static func chromium() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile)
    }

    /// The page's DOM after its scripts ran, once `ready` holds of it. The budget is virtual
    /// time but videos load in real time, so on a machine busy with other tests a load may
    /// not have finished when it runs out: the page is loaded afresh, with a longer budget,
    /// up to three times.
    static func dom(_ page: URL, fragment: String = "", profile: URL, until ready: (String) -> Bool = { _ in true }) async throws -> String {
        var dom = ""
        for budget in [6_000, 15_000, 30_000] {
            dom = try await Shell.run(chromium()!, ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)",
                                                    "--virtual-time-budget=\(budget)", "--dump-dom", page.absoluteString + fragment])
            if ready(dom) { break }
        }
        return dom
    }

    static func count(_ text: String, _ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func aSweepsGalleryWorksInARealBrowser() async throws {
        guard Self.chromium() != nil else {
            Issue.record("chromium is not installed; run scripts/setup.sh")
            return
        }
        let dir = try HostileConditionsTests.scratch("""
            local prompts = { "a red kite over the dunes", "a lighthouse at dusk", \(luaQuoted(Self.hostile)) }
            local jobs = {}
            for _, p in ipairs(prompts) do for _, s in ipairs({ 1, 2 }) do jobs[#jobs + 1] = { prompt = p, seed = s } end end
            map(jobs, function(j) return text_to_video{ prompt = j.prompt, seed = j.seed, duration = 4 } end)
            """, name: "sweep.lua")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "sweep.lua", "--latency", "0.3"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Gallery: out/gallery.html"), "\(run.stdout)")
        let page = dir.appendingPathComponent("out/gallery.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(!html.contains("http://") && !html.contains("https://"), "the page loads nothing from the network")
        #expect(Self.count(html, #"poster="../.reel/posters/"#) == 6, "a poster per take, by its path")

        let profile = dir.appendingPathComponent("chromium-profile")
        let dom = try await Self.dom(page, profile: profile) { $0.contains(#"data-loaded="6""#) || $0.contains("data-broken") }
        let body = try #require(dom.firstMatch(of: /<body[^>]*>/)).0
        #expect(body.contains(#"data-loaded="6""#) && !body.contains("data-broken"), "every video loads its file: \(body)")
        #expect(!body.contains("pwned"), "the hostile prompt ran: \(body)")
        #expect(dom.contains("&lt;script&gt;document.body.dataset.pwned=2&lt;/script&gt;"), "the hostile prompt is shown as text")
        // 3 prompts × 2 seeds: three rows of two cards, seeds as the columns.
        let rows = dom.components(separatedBy: #"<tr class="gridrow">"#).dropFirst()
        #expect(rows.count == 3 && rows.allSatisfy { Self.count($0.components(separatedBy: "</tr>")[0], #"class="card take"#) == 2 },
                "\(rows.map { Self.count($0.components(separatedBy: "</tr>")[0], #"class="card take"#) })")
        #expect(dom.contains(">seed: 1</th>") && dom.contains(">seed: 2</th>"))

        // The filter: by text, and by a status no take has.
        let lighthouse = try await Self.dom(page, fragment: "#q=lighthouse", profile: profile)
        #expect(lighthouse.contains(#"data-shown="2""#) && Self.count(lighthouse, #"hidden="""#) == 4, "filter by text")
        let failed = try await Self.dom(page, fragment: "#status=failed", profile: profile)
        #expect(failed.contains(#"data-shown="0""#), "filter by status")

        // A screenshot kept with the test output.
        let shot = CLI.packageRoot.appendingPathComponent(".build/gallery-test.png")
        _ = try await Shell.run(Self.chromium()!, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
                                             "--window-size=1280,1000", "--virtual-time-budget=4000", "--screenshot=\(shot.path)", page.absoluteString])
        #expect(FileManager.default.fileExists(atPath: shot.path))
        print("gallery: 3 × 2 sweep → 3 rows × 2 columns, 6/6 videos loaded, filter 2 and 0 shown, hostile prompt inert; screenshot \(shot.path)")
    }
}

/// A Lua string literal for any text.
func luaQuoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n") + "\""
}
