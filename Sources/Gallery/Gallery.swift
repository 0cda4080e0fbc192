import Foundation
import Footage
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

    // MARK: The page's model

    struct Page {
        var title: String
        var subtitle: String
        var count: Int
        var models: [String]
        var sections: [Section]
        var films: [Film]
        // Mustache reads stored properties only (through Mirror): the flags are stored.
        var hasFilms: Bool
        var isEmpty: Bool
    }

    struct Section {
        var title: String
        var note: String
        /// Column headers of a grid (empty for a chain or a list).
        var columns: [String]
        var rows: [Row]
        var kind: String
        var hasColumns: Bool
        /// A chain's seam sheet (relative path), when a `seams` step was made of its clips.
        var sheet: String
        var hasSheet: Bool

        init(title: String, note: String, columns: [String], rows: [Row], kind: String, sheet: String = "") {
            (self.title, self.note, self.columns, self.rows, self.kind, self.sheet) = (title, note, columns, rows, kind, sheet)
            hasColumns = !columns.isEmpty
            hasSheet = !sheet.isEmpty
        }
    }

    struct Row {
        var header: String
        var cells: [Cell]
    }

    struct Cell {
        var card: Card?
        var empty: Bool
        init(card: Card?) {
            self.card = card
            empty = card == nil
        }
    }

    struct Card {
        var dom: String
        var number: Int
        var label: String
        var prompt: String
        var model: String
        var seed: String
        var duration: String
        var arguments: String
        var status: String
        var isFailed: Bool
        var reason: String
        var origin: String
        var call: String
        var video: String
        var hasVideo: Bool
        var poster: String
        var searchText: String
        var varying: [Detail] { didSet { hasVarying = !varying.isEmpty } }
        var hasVarying = false
        var details: [Detail]
    }

    struct Detail {
        var name: String
        var value: String
        var highlight: Bool
    }

    struct Film {
        var title: String
        var video: String
        var poster: String
        var duration: String
        var sheet: String
        var hasSheet: Bool
        var clips: String
    }

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
        for (index, use) in tasks.enumerated() {
            let task = use.task
            let body = Self.fields(task.request)
            requests[task.id] = body
            // The take's own arguments (an --each row's columns), else the run's.
            cards[task.id] = card(use, number: index + 1, body: body, arguments: use.arguments ?? runArguments[use.runID] ?? "", pageFolder: pageFolder,
                                  poster: task.path == nil ? "" : poster(task.sha256))
        }

        // Chains: a take whose input is another take — its video (extend) or a last frame of it.
        let byResultURL = Dictionary(tasks.compactMap { use in use.task.resultURL.map { ($0, use.task.id) } }, uniquingKeysWith: { a, _ in a })
        let pathOf = Dictionary(tasks.compactMap { use in use.task.path.map { (use.task.id, ReelPaths.absolute($0)) } }, uniquingKeysWith: { a, _ in a })
        let byPath = Dictionary(pathOf.map { ($0.value, $0.key) }, uniquingKeysWith: min)
        let lastFrameSource = Dictionary(media.filter { $0.operation == "last_frame" || $0.operation == "frame" }
            .compactMap { record in record.inputPaths.first.flatMap { byPath[ReelPaths.absolute($0)] }.map { (ReelPaths.absolute(record.path), $0) } }, uniquingKeysWith: { a, _ in a })
        var parent: [Int64: Int64] = [:]
        for use in tasks {
            let body = requests[use.task.id] ?? []
            if case .string(let url)? = body.first(where: { $0.0 == "video" })?.1, let source = byResultURL[url] { parent[use.task.id] = source }
            if case .string(let image)? = body.first(where: { $0.0 == "image" })?.1, let file = Self.localFile(in: image), let source = lastFrameSource[file] {
                parent[use.task.id] = source
            }
        }
        var firstChild: [Int64: Int64] = [:]
        for (child, source) in parent.sorted(by: { $0.key < $1.key }) where firstChild[source] == nil { firstChild[source] = child }
        var sections: [Section] = []
        var inChain: Set<Int64> = []
        for use in tasks where parent[use.task.id] == nil && firstChild[use.task.id] != nil {
            var chain = [use.task.id]
            while let next = firstChild[chain.last!], !chain.contains(next) { chain.append(next) }
            inChain.formUnion(chain)
            let steps = chain.compactMap { requests[$0] }.map { Self.mode(of: $0) }.joined(separator: " → ")
            // Its seam sheet: a seams step whose clips are all takes of this chain.
            let paths = Set(chain.compactMap { pathOf[$0] })
            let sheet = media.last { $0.operation == "seams" && !$0.inputPaths.isEmpty && Set($0.inputPaths.map(ReelPaths.absolute)).isSubset(of: paths) }
            sections.append(Section(title: "Chain from \(cards[chain[0]]?.label ?? "")", note: steps, columns: [],
                                    rows: [Row(header: "", cells: chain.map { Cell(card: cards[$0]) })], kind: "chain",
                                    sheet: sheet.map { Self.relative($0.path, from: pageFolder) } ?? ""))
        }

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

    /// A call site's takes: rows and columns from the (up to) two parameters that vary.
    func grid(title: String, ids: [Int64], requests: [Int64: [(String, JSONValue)]], cards: inout [Int64: Card]) -> Section {
        let parameters = ["prompt", "model", "duration", "aspect_ratio", "negative_prompt", "generate_audio", "seed"]
        // Each take's parameters, read once (a page may hold thousands of takes).
        var values: [Int64: [String: String]] = [:]
        for id in ids {
            let body = requests[id] ?? []
            values[id] = Dictionary(uniqueKeysWithValues: parameters.map { ($0, Self.parameter($0, in: body)) })
        }
        func value(_ id: Int64, _ name: String) -> String { values[id]?[name] ?? "" }
        let varying = parameters.filter { name in Set(ids.map { value($0, name) }).count > 1 }
        for id in ids {
            guard var card = cards[id] else { continue }
            card.varying = varying.filter { $0 != "prompt" }.map { Detail(name: $0.replacingOccurrences(of: "_", with: " "), value: value(id, $0), highlight: true) }
            card.details.removeAll { varying.contains($0.name) }
            cards[id] = card
        }
        // Values in the order the script first used them; numbers (seeds, durations) by size.
        func ordered(_ name: String) -> [String] {
            var seen: [String] = [], known: Set<String> = []
            for id in ids where known.insert(value(id, name)).inserted { seen.append(value(id, name)) }
            if seen.allSatisfy({ Double($0) != nil }) { seen.sort { Double($0)! < Double($1)! } }
            return seen
        }
        func spoken(_ name: String) -> String { name.replacingOccurrences(of: "_", with: " ") }
        let note = varying.isEmpty ? "\(ids.count) take\(ids.count == 1 ? "" : "s") of one request"
            : "varies: " + varying.map(spoken).joined(separator: ", ")
        let list = Section(title: title, note: note, columns: [], rows: [Row(header: "", cells: ids.map { Cell(card: cards[$0]) })], kind: "list")
        switch varying.count {
        case 2:
            let (rowName, columnName) = (varying[0], varying[1])
            let columns = ordered(columnName), rowValues = ordered(rowName)
            // A grid only when most of its cells hold a take: two values that change together
            // (prompt i with seed i) would make a table of n × n mostly empty cells.
            guard rowValues.count * columns.count <= 2 * ids.count else { return list }
            var byCell: [String: [String: Int64]] = [:]
            for id in ids { byCell[value(id, rowName), default: [:]][value(id, columnName)] = id }
            let rows = rowValues.map { rowValue in
                Row(header: "\(spoken(rowName)): \(rowValue)", cells: columns.map { Cell(card: byCell[rowValue]?[$0].flatMap { cards[$0] }) })
            }
            return Section(title: title, note: note, columns: columns.map { "\(spoken(columnName)): \($0)" }, rows: rows, kind: "grid")
        case 1:
            let name = varying[0]
            var byValue: [String: Int64] = [:]
            for id in ids { byValue[value(id, name)] = id }
            let columns = ordered(name)
            return Section(title: title, note: note, columns: columns.map { "\(spoken(name)): \($0)" },
                           rows: [Row(header: "", cells: columns.map { Cell(card: byValue[$0].flatMap { cards[$0] }) })], kind: "grid")
        default:
            return list
        }
    }

    /// `poster`: its poster's path from the page, or "".
    func card(_ use: Journal.Use, number: Int, body: [(String, JSONValue)], arguments: String, pageFolder: String, poster: String) -> Card {
        let task = use.task
        let seed = Self.parameter("seed", in: body)
        let duration = Self.parameter("duration", in: body)
        let prompt = task.prompt
        let label = TakeLabel.make(prompt: prompt, seed: seed.isEmpty ? nil : seed, callSite: task.callSite)
        let (status, failed): (String, Bool) =
            if task.state == .downloaded { ("done", false) }
            else if task.state.isOutcomeUnknown { ("unknown", true) }
            else if task.state == .failed { ("failed", true) }
            else { (task.state.rawValue, false) }
        let video = task.path.map { Self.relative(ReelPaths.absolute($0), from: pageFolder) } ?? ""
        let details = [Detail(name: "model", value: task.model, highlight: false), Detail(name: "seed", value: seed.isEmpty ? "—" : seed, highlight: false),
                       Detail(name: "duration", value: duration.isEmpty ? "default" : duration + " s", highlight: false)]
            + (arguments.isEmpty ? [] : [Detail(name: "args", value: arguments, highlight: false)])
        return Card(dom: "take-\(task.id)", number: number, label: label, prompt: prompt, model: task.model, seed: seed, duration: duration,
                    arguments: arguments, status: status, isFailed: failed, reason: task.error ?? "", origin: use.created ? "new" : "reused",
                    call: LuaCallText.make(mode: task.mode, body: body, name: LuaCallText.name(path: task.path, taskID: task.taskID)), video: video, hasVideo: !video.isEmpty, poster: poster,
                    searchText: (prompt + " " + label + " " + task.model).lowercased(), varying: [], details: details)
    }

    // MARK: Helpers

    static func fields(_ request: String) -> [(String, JSONValue)] {
        guard case .object(let fields)? = try? JSONValue.parse(Array(request.utf8)) else { return [] }
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

    /// The Lua function that made a request body.
    static func mode(of body: [(String, JSONValue)]) -> String {
        GenerationMode(inputs: Set(body.map(\.0))).luaFunction
    }

    /// The file behind a journaled local input (`data:…(local file PATH, N bytes)`).
    static func localFile(in text: String) -> String? {
        guard let range = text.range(of: "(local file ") else { return nil }
        let rest = text[range.upperBound...]
        guard let end = rest.range(of: ", ", options: .backwards) else { return nil }
        return String(rest[..<end.lowerBound])
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

/// The Lua call that makes a take again, from its journaled request body.
enum LuaCallText {
    /// `name`: the take's file name option, when it was not the default.
    static func make(mode: String, body: [(String, JSONValue)], name fileName: String? = nil) -> String {
        let function = Gallery.mode(of: body)
        var fields: [String] = [], extra: [String] = []
        var source: String?
        for (name, value) in body where name != "size" {
            var rendered = literal(value)
            if case .string(let text) = value, let file = Gallery.localFile(in: text) { rendered = literal(.string(file)) }
            if name == "video" { source = rendered; continue }
            // A field that is no option of the call was given in extra_body, and goes back there.
            if options.contains(name) { fields.append("\(name) = \(rendered)") } else { extra.append("\(key(name)) = \(rendered)") }
        }
        if !extra.isEmpty { fields.append("extra_body = { " + extra.joined(separator: ", ") + " }") }
        if let fileName { fields.append("name = \(literal(.string(fileName)))") }
        let table = "{ " + fields.joined(separator: ", ") + " }"
        if let source { return "extend(\(source), \(table))" }
        return "\(function)\(table)"
    }

    /// The `name` that gives the take's file its name again: its file name without `.mp4`,
    /// the task id in it as `{id}` (a new take gets its own); nil for the default (`{id}`).
    static func name(path: String?, taskID: String?) -> String? {
        guard let path else { return nil }
        var stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        if let taskID, !taskID.isEmpty, let range = stem.range(of: taskID, options: .backwards) {
            stem.replaceSubrange(range, with: "{id}")
        }
        return stem == "{id}" || stem.isEmpty ? nil : stem
    }

    /// The calls' own options (what may stand outside extra_body).
    static let options = Set(RequestOptions.all.map(\.name))

    /// A table key: a name as it is, anything else as `["…"]`.
    static func key(_ name: String) -> String {
        let keywords: Set<String> = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local",
                                     "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"]
        let isName = name.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } && !keywords.contains(name)
        return isName ? name : "[\(literal(.string(name)))]"
    }

    static func literal(_ value: JSONValue) -> String {
        switch value {
        case .string(let s):
            var out = "\""
            let scalars = Array(s.unicodeScalars)
            for (i, c) in scalars.enumerated() {
                switch c {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where c.value < 0x20 || c.value == 0x7F:
                    // `\0`, `\27`: a decimal escape, three digits when a digit follows (`\0001` is not `\01`).
                    let digitFollows = i + 1 < scalars.count && ("0"..."9").contains(scalars[i + 1])
                    out += "\\" + (digitFollows ? String(String(c.value + 1000).dropFirst()) : String(c.value))
                case _ where c.properties.generalCategory == .control || c.properties.isBidiControl:
                    // C1 controls and bidi overrides: shown and copied as what they are.
                    out += "\\u{" + String(c.value, radix: 16, uppercase: true) + "}"
                default: out.unicodeScalars.append(c)
                }
            }
            return out + "\""
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "nil"
        case .array(let items): return "{ " + items.map(literal).joined(separator: ", ") + " }"
        case .object(let fields): return "{ " + fields.map { "\(key($0.0)) = \(literal($0.1))" }.joined(separator: ", ") + " }"
        }
    }
}

// The page's model read by name, without Mirror: Mustache's reflection walked every field of
// a value for each name it looked up, most of the time of writing a page of thousands of takes.
// A name not listed reads as missing (and Mustache looks further up), as with reflection.
extension Gallery.Page: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "subtitle": subtitle
        case "count": count
        case "models": models
        case "sections": sections
        case "films": films
        case "hasFilms": hasFilms
        case "isEmpty": isEmpty
        default: nil
        }
    }
}

extension Gallery.Section: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "note": note
        case "columns": columns
        case "rows": rows
        case "kind": kind
        case "hasColumns": hasColumns
        case "sheet": sheet
        case "hasSheet": hasSheet
        default: nil
        }
    }
}

extension Gallery.Row: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "header": header
        case "cells": cells
        default: nil
        }
    }
}

extension Gallery.Cell: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "card": card
        case "empty": empty
        default: nil
        }
    }
}

extension Gallery.Card: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "dom": dom
        case "number": number
        case "label": label
        case "prompt": prompt
        case "model": model
        case "seed": seed
        case "duration": duration
        case "arguments": arguments
        case "status": status
        case "isFailed": isFailed
        case "reason": reason
        case "origin": origin
        case "call": call
        case "video": video
        case "hasVideo": hasVideo
        case "poster": poster
        case "searchText": searchText
        case "varying": varying
        case "hasVarying": hasVarying
        case "details": details
        default: nil
        }
    }
}

extension Gallery.Detail: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "value": value
        case "highlight": highlight
        default: nil
        }
    }
}

extension Gallery.Film: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "video": video
        case "poster": poster
        case "duration": duration
        case "sheet": sheet
        case "hasSheet": hasSheet
        case "clips": clips
        default: nil
        }
    }
}
