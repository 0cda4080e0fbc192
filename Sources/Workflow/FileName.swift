import Crypto
import Foundation
import SafeFiles
import Support
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

    /// The name, with `.mp4` (once: a template that ends in `.mp4` keeps its own). At most
    /// `baseBytes` before the extension, so that with a collision's `-ID` it stays within the
    /// system's 255-byte limit for a file name.
    public func render(id: String) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let field = String(rest[rest.index(after: open)..<close])
            out += field == "id" ? Self.idPart(id) : (fields[field] ?? "")
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        if out.lowercased().hasSuffix(".mp4") { out.removeLast(4) }
        let safe = Self.slug(out, limit: Self.baseBytes, keepCase: true, keep: "-_.")
        return (safe.isEmpty ? Self.idPart(id) : safe) + ".mp4"
    }

    /// Bytes of a rendered name before `.mp4`; `-` and an id part (at most `idBytes`) may follow.
    static let baseBytes = 150
    static let idBytes = 64

    /// A task id as part of a file name: as it is when plain (letters, digits, `-_.`, not
    /// starting with `.`, which would hide the file) and short; otherwise made plain, cut,
    /// and ended with 12 hex digits of its SHA-256, so two ids never share a name.
    public static func idPart(_ id: String) -> String {
        if !id.isEmpty, !id.hasPrefix("."), id.utf8.count <= idBytes, PlainASCII.isPlain(id, punctuation: "-_.") { return id }
        var safe = String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        if safe.hasPrefix(".") { safe = "_" + safe.dropFirst() }
        let digest = SHA256.hash(data: Data(id.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        return safe.prefix(utf8Bytes: idBytes - 13) + "-" + digest
    }

    /// Letters and digits kept, runs of anything else one `-`; at most `limit` bytes (UTF-8).
    static func slug(_ text: String, limit: Int, keepCase: Bool = false, keep: String = "-_") -> String {
        var out = ""
        for c in keepCase ? text : text.lowercased() {
            if c.isLetter || c.isNumber || keep.contains(c) { out.append(c) } else if !out.hasSuffix("-") { out.append("-") }
        }
        let edges = CharacterSet(charactersIn: "-.")
        return out.trimmingCharacters(in: edges).prefix(utf8Bytes: limit).trimmingCharacters(in: edges)
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
