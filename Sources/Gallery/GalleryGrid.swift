import Foundation
import Support
import VideoAPI
import Workflow

/// A call site's takes laid out as a grid, and each take's card.
extension Gallery {
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
}
