import Footage
import Foundation
import Mustache
import Support
import VideoAPI
import Workflow

/// `reel gallery`: the journal's takes as one HTML page — it loads nothing from
/// the network, and shows the local files (videos, their posters, seam sheets) by relative path.
/// Takes from one call site are laid out as a grid whose rows and columns are the two
/// parameters that vary; chains (extensions, last-frame shots) as one row in order; films with
/// their seam sheets. Every user text goes through Mustache's escaping.
public struct Gallery {
    let journal: Journal
    /// The folder the journal lives in (`.reel`): posters are kept under it.
    let stateDirectory: String

    public init(journal: Journal, stateDirectory: String) {
        self.journal = journal
        self.stateDirectory = stateDirectory
    }

    public enum Selection: Sendable {
        case latestRun, run(Int64), all
    }

    /// Writes the page to `output` (atomically) and returns how many takes it shows.
    @discardableResult
    public func write(_ selection: Selection, to output: String) async throws -> Int {
        let page = try await build(selection, pageFolder: ReelPaths.absolute((output as NSString).deletingLastPathComponent))
        let html = Self.templates.render(page, withTemplate: "gallery") ?? ""
        let folder = (output as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try Data(html.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        return page.count
    }

    /// reel's own templates, compiled in: the page and its card (a partial). A parse error is
    /// a bug, caught by the tests.
    static let templates = MustacheLibrary(templates: [
        "gallery": try! MustacheTemplate(string: String(decoding: PackageResources.gallery_mustache, as: UTF8.self)),
        "card": try! MustacheTemplate(string: String(decoding: PackageResources.card_mustache, as: UTF8.self)),
    ])

    // MARK: Building it

    func build(_ selection: Selection, pageFolder: String) async throws -> Page {
        let runs = try journal.runs(limit: 10_000)
        let chosenRuns: Set<Int64>
        switch selection {
        case .latestRun: chosenRuns = runs.map(\.id).max().map { [$0] } ?? []
        case .run(let id): chosenRuns = [id]
        case .all: chosenRuns = Set(runs.map(\.id))
        }
        let runArguments = Dictionary(runs.map { ($0.id, Self.arguments($0.arguments)) }, uniquingKeysWith: { a, _ in a })
        // Each task once, with whether the (latest) chosen run that used it created it.
        var uses: [Int64: Journal.Use] = [:]
        // Read from the first chosen run on: a journal of many re-runs of a large sweep holds a
        // use of every take per run.
        let since = runs.filter { chosenRuns.contains($0.id) }.map(\.startedAt).min() ?? 0
        for use in try journal.uses(since: since) where chosenRuns.contains(use.runID) { uses[use.task.id] = use }
        // In the order the script made its calls (run by run), not the order POSTs went out in.
        // --each rows count their calls each from 1: the row comes first.
        func row(_ use: Journal.Use) -> Int { use.arguments.flatMap { $0.hasPrefix("row ") ? Int($0.dropFirst(4).prefix { $0.isNumber }) : nil } ?? 0 }
        let tasks = uses.values.sorted {
            ($0.runID, row($0), $0.sequence ?? Int.max, $0.task.id) < ($1.runID, row($1), $1.sequence ?? Int.max, $1.task.id)
        }
        let journaledMedia = try journal.media()
        let media = journaledMedia.filter { chosenRuns.contains($0.runID) }

        // Posters, in page order: the journaled ones, and some made now (see Posters).
        let videos = tasks.compactMap { use in use.task.path.flatMap { path in use.task.sha256.map { Posters.Video(path: ReelPaths.absolute(path), sha256: $0) } } }
            + media.filter { $0.operation == "concat" }.map { Posters.Video(path: ReelPaths.absolute($0.path), sha256: $0.sha256) }
        var posterFiles: [String: String] = [:]
        if let run = chosenRuns.max() {
            posterFiles = await Posters(journal: journal, folder: (stateDirectory as NSString).appendingPathComponent("posters"))
                .files(for: videos, journaled: journaledMedia, runID: run)
        }
        func poster(_ sha256: String?) -> String { sha256.flatMap { posterFiles[$0] }.map { Self.relative(ReelPaths.absolute($0), from: pageFolder) } ?? "" }

        // The cards, numbered in journal order.
        var cards: [Int64: Card] = [:]
        var requests: [Int64: [(String, JSONValue)]] = [:]
        var typed: [Int64: GenerationRequest] = [:]
        for (index, use) in tasks.enumerated() {
            let task = use.task
            let request = task.generationRequest
            typed[task.id] = request
            let body = Self.fields(request)
            requests[task.id] = body
            // The take's own arguments (an --each row's columns), else the run's.
            cards[task.id] = card(use, number: index + 1, body: body, arguments: use.arguments ?? runArguments[use.runID] ?? "", pageFolder: pageFolder,
                                  poster: task.path == nil ? "" : poster(task.sha256))
        }

        // Chains: a take whose input is another take — its video (extend) or a last frame of it.
        let chains = Chains(tasks, media: media, requests: typed)
        let byPath = chains.byPath
        var sections = chains.sections(cards: cards, requests: requests, media: media, pageFolder: pageFolder)
        let inChain = chains.members

        // The other takes, by call site: a grid of what varies.
        var groups: [(String, [Int64])] = []
        for use in tasks where !inChain.contains(use.task.id) {
            let site = use.task.callSite ?? "(no call site)"
            if let i = groups.firstIndex(where: { $0.0 == site }) { groups[i].1.append(use.task.id) } else { groups.append((site, [use.task.id])) }
        }
        for (site, ids) in groups {
            sections.append(grid(title: (site as NSString).lastPathComponent, ids: ids, requests: requests, cards: &cards))
        }

        // Films and their seam sheets.
        let sheets = media.filter { $0.operation == "seams" }
        var films: [Film] = []
        for film in media where film.operation == "concat" {
            let sheet = sheets.first { $0.inputPaths == film.inputPaths }
            let clipNumbers = film.inputPaths.compactMap { byPath[ReelPaths.absolute($0)].flatMap { cards[$0]?.number } }.map { "[\($0)]" }
            films.append(Film(title: (film.path as NSString).lastPathComponent, video: Self.relative(film.path, from: pageFolder),
                              poster: poster(film.sha256), duration: film.duration.map { String(format: "%.1f s", $0) } ?? "",
                              sheet: sheet.map { Self.relative($0.path, from: pageFolder) } ?? "", hasSheet: sheet != nil,
                              clips: clipNumbers.isEmpty ? "\(film.inputPaths.count) clips" : "clips " + clipNumbers.joined(separator: " ")))
        }

        let chosen = runs.filter { chosenRuns.contains($0.id) }
        let title: String
        switch selection {
        case .all: title = "reel: every run"
        default: title = chosen.first.map { "reel: run \($0.id) — \(($0.script as NSString).lastPathComponent)" } ?? "reel: no runs yet"
        }
        let subtitle = chosen.count == 1
            ? "\(tasks.count) take\(tasks.count == 1 ? "" : "s"), started \(Self.date(chosen[0].startedAt))" + (runArguments[chosen[0].id].map { $0.isEmpty ? "" : " with \($0)" } ?? "")
            : "\(tasks.count) takes from \(chosen.count) runs"
        return Page(title: title, subtitle: subtitle, count: tasks.count,
                    models: Array(Set(tasks.map(\.task.model))).sorted(), sections: sections, films: films,
                    hasFilms: !films.isEmpty, isEmpty: tasks.isEmpty)
    }

    // MARK: Helpers

    /// A take's fields, `extra_body`'s among the others, a local file by its path (as a
    /// script names it).
    static func fields(_ request: GenerationRequest?) -> [(String, JSONValue)] {
        guard case .object(let fields)? = request?.body(media: { if case .localFile(let path, _, _) = $0 { path } else { $0.displayString } })
        else { return [] }
        var flat: [(String, JSONValue)] = []
        for (name, value) in fields {
            if name == "extra_body", case .object(let extra) = value { flat += extra } else { flat.append((name, value)) }
        }
        return flat
    }

    static func parameter(_ name: String, in body: [(String, JSONValue)]) -> String {
        switch body.first(where: { $0.0 == name })?.1 {
        case .string(let s)?: s
        case .int(let i)?: String(i)
        case .double(let d)?: String(d)
        case .bool(let b)?: b ? "true" : "false"
        default: ""
        }
    }

    static func mode(of body: [(String, JSONValue)]) -> String {
        let names = Set(body.map(\.0))
        if names.contains("video") { return "extend" }
        if names.contains("images") { return "reference_to_video" }
        if names.contains("last_image") { return "frames_to_video" }
        if names.contains("image") { return "image_to_video" }
        return "text_to_video"
    }

    static func arguments(_ json: String?) -> String {
        guard let json, case .object(let fields)? = try? JSONValue.parse(Array(json.utf8)) else { return "" }
        return fields.map { "\($0.0)=\($0.1.stringValue ?? $0.1.encoded())" }.joined(separator: " ")
    }

    /// `path` relative to `folder` (both absolute), for links that work from `file://`.
    static func relative(_ path: String, from folder: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: folder).standardizedFileURL.pathComponents
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        let parts = Array(repeating: "..", count: base.count - common) + target[common...]
        return parts.map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? $0 }.joined(separator: "/")
    }

    static func date(_ seconds: Double) -> String {
        let format = DateFormatter()
        format.dateFormat = "yyyy-MM-dd HH:mm"
        return format.string(from: Date(timeIntervalSince1970: seconds))
    }
}
