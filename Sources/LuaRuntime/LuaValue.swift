/// A Lua value copied into Swift. Integers and floats stay apart, as in Lua 5.4.
///
/// Functions, threads and light userdata cannot be copied out; they arrive as `.opaque`
/// with their Lua type name so that a type error can still say what was given.
public enum LuaValue: Sendable, Hashable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case table(LuaTable)
    case userdata(LuaUserdata)
    case opaque(typeName: String)

    /// The name Lua's `type()` gives this value.
    public var typeName: String {
        switch self {
        case .nil: "nil"
        case .boolean: "boolean"
        case .integer, .number: "number"
        case .string: "string"
        case .table: "table"
        case .userdata: "userdata"
        case .opaque(let name): name
        }
    }

    public var isNil: Bool { if case .nil = self { true } else { false } }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// An integer or a float as a Double (not a numeric string).
    public var numberValue: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }
    public var tableValue: LuaTable? { if case .table(let t) = self { t } else { nil } }
}

/// A Lua table copied into Swift, with the registry name of its metatable if reel gave it one.
public struct LuaTable: Sendable, Hashable {
    public var entries: [LuaValue: LuaValue]
    /// Name under which the metatable is registered (`luaL_newmetatable`), set on push.
    public var metatable: String?

    public init(_ entries: [LuaValue: LuaValue] = [:], metatable: String? = nil) {
        self.entries = entries
        self.metatable = metatable
    }

    /// A sequence `{a, b, c}`.
    public init(array: [LuaValue], metatable: String? = nil) {
        var entries: [LuaValue: LuaValue] = [:]
        for (i, v) in array.enumerated() where !v.isNil { entries[.integer(Int64(i + 1))] = v }
        self.init(entries, metatable: metatable)
    }

    /// A record `{name = value, …}`; nil values are left out, as Lua would.
    public init(fields: [String: LuaValue], metatable: String? = nil) {
        var entries: [LuaValue: LuaValue] = [:]
        for (k, v) in fields where !v.isNil { entries[.string(k)] = v }
        self.init(entries, metatable: metatable)
    }

    public subscript(key: String) -> LuaValue {
        get { entries[.string(key)] ?? .nil }
        set { entries[.string(key)] = newValue.isNil ? nil : newValue }
    }

    public subscript(index: Int) -> LuaValue {
        entries[.integer(Int64(index))] ?? .nil
    }

    /// The values 1…n when every key is exactly that run of integers, else nil.
    public var sequence: [LuaValue]? {
        var out: [LuaValue] = []
        out.reserveCapacity(entries.count)
        for i in 1...max(entries.count, 1) {
            guard let v = entries[.integer(Int64(i))] else { break }
            out.append(v)
        }
        return out.count == entries.count ? out : nil
    }

    /// The string keys, for checking option names.
    public var stringKeys: [String] { entries.keys.compactMap(\.stringValue).sorted() }

    public var isEmpty: Bool { entries.isEmpty }
}

/// A Swift object handed to Lua as a full userdata. Lua holds a strong reference until the
/// userdata is collected (`__gc` releases it).
public struct LuaUserdata: @unchecked Sendable, Hashable {
    public let object: AnyObject
    public let metatable: String

    public init(_ object: AnyObject, metatable: String) {
        self.object = object
        self.metatable = metatable
    }

    public static func == (a: LuaUserdata, b: LuaUserdata) -> Bool { a.object === b.object }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(object)) }
}

extension LuaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(nilLiteral: ()) { self = .nil }
}

/// Lua strings are bytes; Swift strings are Unicode. A Lua string that is not UTF-8 is not
/// repaired into U+FFFD (which made `"bad \xff"` and `"bad \xfe"` one and the same prompt):
/// each byte that is not part of a UTF-8 character (always 0x80 or above) becomes the scalar
/// U+10FF00 + byte, at the end of the last private-use plane, so that whatever must send or
/// key the text (a request's options) can find the bytes and refuse them, naming them.
public enum LuaText {
    private static let markBase: UInt32 = 0x10FF00

    /// `bytes` as a String, valid UTF-8 as is, any other byte marked.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        var parser = Unicode.UTF8.ForwardParser()
        var input = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &input) {
            case .valid(let encoded):
                scalars.append(Unicode.UTF8.decode(encoded))
                offset += encoded.count
            case .error(let length):
                for byte in bytes[offset..<offset + length] { scalars.append(Unicode.Scalar(markBase + UInt32(byte))!) }
                offset += length
            case .emptyInput:
                return String(scalars)
            }
        }
    }

    /// The first byte of `text` that was not UTF-8 in Lua, and its offset among the string's bytes.
    public static func invalidByte(in text: String) -> (byte: UInt8, offset: Int)? {
        var offset = 0
        for scalar in text.unicodeScalars {
            if scalar.value > markBase + 0x7F { return (UInt8(scalar.value - markBase), offset) }
            offset += scalar.utf8.count
        }
        return nil
    }
}
