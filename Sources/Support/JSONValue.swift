import Foundation

/// A JSON value that keeps integers and floats apart and objects in insertion order, so a
/// request body comes out with the API's field names in a stable order.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var objectFields: [(String, JSONValue)]? { if case .object(let f) = self { f } else { nil } }

    /// The name a user would give this JSON type in an error message.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "list"
        case .object: "table"
        }
    }

    // Objects compare as dictionaries: key order is presentation, not meaning.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            let right = Dictionary(y, uniquingKeysWith: { a, _ in a })
            return x.allSatisfy { right[$0.0] == $0.1 }
        default: return false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case .bool(let b): h.combine(b)
        case .int(let i): h.combine(i)
        case .double(let d): h.combine(d)
        case .string(let s): h.combine(s)
        case .array(let a): h.combine(a)
        case .object(let f):
            for (k, v) in f.sorted(by: { $0.0 < $1.0 }) { h.combine(k); h.combine(v) }
        }
    }
}

// MARK: Encoding

extension JSONValue {
    /// Compact JSON text. `sortKeys` gives the canonical form used for hashing.
    public func encoded(sortKeys: Bool = false) -> String {
        var out = ""
        write(into: &out, sortKeys: sortKeys, indent: nil, level: 0)
        return out
    }

    /// Indented JSON text for people (the dry-run plan, `--json`): every terminal control in
    /// it written as a `\u` escape (C1 and bidirectional overrides too, which JSON allows
    /// raw), so printing it cannot act on the terminal; it decodes to the same values.
    public func pretty() -> String {
        var out = ""
        write(into: &out, sortKeys: false, indent: "  ", level: 0)
        return out
    }

    private func write(into out: inout String, sortKeys: Bool, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)") : "null"
        case .string(let s): JSONValue.writeString(s, into: &out, forPeople: indent != nil)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                item.write(into: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "]"
        case .object(let fields):
            if fields.isEmpty { out += "{}"; return }
            out += "{"
            let ordered = sortKeys ? fields.sorted { $0.0 < $1.0 } : fields
            for (i, (key, value)) in ordered.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                JSONValue.writeString(key, into: &out, forPeople: indent != nil)
                out += indent == nil ? ":" : ": "
                value.write(into: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        }
    }

    private func newline(_ out: inout String, _ indent: String?, _ level: Int) {
        guard let indent else { return }
        out += "\n" + String(repeating: indent, count: level)
    }

    static func writeString(_ s: String, into out: inout String, forPeople: Bool = false) {
        out += "\""
        // Most strings (keys, models, most prompts) need no escape: appended whole, not a
        // scalar at a time (the request is encoded three times per generation).
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || forPeople && TerminalText.mayStartControl($0) }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || forPeople && TerminalText.isControl(c):
                out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

// MARK: Decoding

extension JSONValue {
    /// Parses JSON text; throws `JSONValue.ParseError` with a short reason on garbage.
    public static func parse(_ data: some DataProtocol) throws(ParseError) -> JSONValue {
        do {
            return try JSONParser.parse(Array(data))
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(reason: "not valid JSON")
        }
    }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}
