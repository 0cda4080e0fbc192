import Foundation
import Workflow

/// A CSV file with a header row (RFC 4180: quoted fields, "" inside quotes, CRLF or LF),
/// each row as header → value, for `reel run --each rows.csv`.
public struct CSVTable: Sendable {
    public let header: [String]
    public let rows: [[String: String]]

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(path: String) throws(ParseError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            // Say why: a missing file or a folder is not an encoding problem.
            var isFolder: ObjCBool = false
            let reason = !FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) ? "the file does not exist"
                : isFolder.boolValue ? "it is a folder, not a CSV file"
                : "it cannot be read (\(((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) } ?? error.localizedDescription))"
            throw ParseError(description: "cannot read '\(ReelPaths.absolute(path))': \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ParseError(description: "cannot read '\(path)' as UTF-8 text (save it as UTF-8)")
        }
        try self.init(text: text, name: path)
    }

    public init(text: String, name: String = "the CSV") throws(ParseError) {
        var records: [(line: Int, fields: [String])] = []
        var field = "", fields: [String] = [], quoted = false, line = 1, recordLine = 1, afterQuote = false
        var characters = text.hasPrefix("\u{FEFF}") ? Substring(text.dropFirst()) : Substring(text)
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields = []
            field = ""
        }
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" { characters.removeFirst(); field.append("\"") } else { quoted = false; afterQuote = true }
                } else {
                    if c == "\n" || c == "\r\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty && !afterQuote: quoted = true
            case ",": fields.append(field); field = ""; afterQuote = false
            case "\n", "\r\n", "\r":
                endRecord()
                afterQuote = false
                line += 1
                recordLine = line
            default:
                if afterQuote { throw ParseError(description: "\(name):\(line): text after a closing quote") }
                field.append(c)
            }
        }
        if quoted { throw ParseError(description: "\(name):\(recordLine): a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        guard let first = records.first else { throw ParseError(description: "\(name) is empty: it needs a header row and at least one row") }
        let header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        if let blank = header.firstIndex(where: \.isEmpty) {
            throw ParseError(description: "\(name):\(first.line): column \(blank + 1) of the header has no name")
        }
        if let twice = header.first(where: { name in header.filter { $0 == name }.count > 1 }) {
            throw ParseError(description: "\(name):\(first.line): the header names '\(twice)' twice")
        }
        var rows: [[String: String]] = []
        for record in records.dropFirst() {
            guard record.fields.count == header.count else {
                throw ParseError(description: "\(name):\(record.line): \(record.fields.count) field\(record.fields.count == 1 ? "" : "s"), but the header has \(header.count)")
            }
            rows.append(Dictionary(uniqueKeysWithValues: zip(header, record.fields)))
        }
        guard !rows.isEmpty else { throw ParseError(description: "\(name) has a header but no rows") }
        self.header = header
        self.rows = rows
    }
}
