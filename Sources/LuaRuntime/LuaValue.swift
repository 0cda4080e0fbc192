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
