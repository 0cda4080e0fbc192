import Foundation
import Support
import VideoAPI

/// The Lua call that makes a take again, from its journaled request body.
enum LuaCallText {
    /// `name`: the take's file name option, when it was not the default.
    static func make(mode: String, body: [(String, JSONValue)], name fileName: String? = nil) -> String {
        let function = Gallery.mode(of: body)
        var fields: [String] = [], extra: [String] = []
        var source: String?
        for (name, value) in body where name != "size" {
            let rendered = literal(value)
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
