import Foundation
import VideoAPI

/// A take's file name from a template (`--name "{row}-{seed}-{id}"`, or a call's `name`):
/// what the take is, readable in a folder listing. Every value is made safe for a file name;
/// `{id}` (the task id) is filled in once the gateway has given one.
public struct FileName: Sendable, Equatable {
    public var template: String
    /// The values of every field but `id`.
    public var fields: [String: String]

    public init(template: String, fields: [String: String]) {
        self.template = template
        self.fields = fields
    }

    /// The fields a call knows: its number in the run, its CSV row, seed, prompt, line, model, mode.
    public init(template: String, request: GenerationRequest, sequence: Int, row: String?, callSite: String?) {
        let line = callSite.flatMap { $0.split(separator: ":").last.map(String.init) } ?? ""
        self.init(template: template, fields: [
            "n": String(sequence), "row": row ?? "", "seed": request.extraBody.seed.map(String.init) ?? "",
            "prompt": Self.slug(request.prompt, limit: 40), "line": line, "model": request.model, "mode": request.mode.rawValue,
        ])
    }

    /// The name, with `.mp4`.
    public func render(id: String) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let field = String(rest[rest.index(after: open)..<close])
            out += field == "id" ? Self.slug(id, limit: 80, keepCase: true) : (fields[field] ?? "")
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        let safe = Self.slug(out, limit: 160, keepCase: true, keep: "-_.")
        return (safe.isEmpty ? Self.slug(id, limit: 80, keepCase: true) : safe) + ".mp4"
    }

    /// Letters and digits kept, runs of anything else one `-`.
    static func slug(_ text: String, limit: Int, keepCase: Bool = false, keep: String = "-_") -> String {
        var out = ""
        for c in keepCase ? text : text.lowercased() {
            if c.isLetter || c.isNumber || keep.contains(c) { out.append(c) } else if !out.hasSuffix("-") { out.append("-") }
        }
        let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "-."))
        return String(trimmed.prefix(limit))
    }
}

/// The one form reel gives paths in (to scripts, in the journal's media inputs, in the
/// gallery): absolute and standardized, so the same file always compares equal.
public enum ReelPaths {
    public static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }
}
