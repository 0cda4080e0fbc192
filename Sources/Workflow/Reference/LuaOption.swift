import LuaRuntime
import Support
import VideoAPI

/// One option of a non-generation function's options table, declared once (Neovim's
/// keysets): `LuaOption.check` refuses unknown, mistyped and out-of-range values from it,
/// fills in its default, and the LuaLS file, the reference and REPL completion describe it.
/// (Generation functions take `RequestOptions`, checked by the request parser.)
public struct LuaOption: Sendable {
    public enum Kind: Sendable {
        /// A number within the bounds.
        case number(Bounds)
        /// A whole number within the bounds.
        case integer(Bounds)
        /// One of these strings.
        case choice([String])
    }

    /// A range of numbers: from `minimum` (or above it, when `aboveMinimum`) up to `maximum`.
    public struct Bounds: Sendable {
        public var minimum: Double?
        public var aboveMinimum = false
        public var maximum: Double?

        public static func atLeast(_ minimum: Double) -> Bounds { Bounds(minimum: minimum) }
        public static func above(_ minimum: Double, atMost maximum: Double) -> Bounds {
            Bounds(minimum: minimum, aboveMinimum: true, maximum: maximum)
        }

        func contains(_ x: Double) -> Bool {
            guard x.isFinite else { return false }
            if let minimum, aboveMinimum ? x <= minimum : x < minimum { return false }
            if let maximum, x > maximum { return false }
            return true
        }

        /// "0 or more", "more than 0 and at most 5".
        var spoken: String {
            let low = minimum.map { aboveMinimum ? "more than \(number($0))" : "\(number($0)) or more" }
            let high = maximum.map { "at most \(number($0))" }
            return [low, high].compactMap { $0 }.joined(separator: " and ")
        }
    }

    public let name: String
    public let kind: Kind
    /// Used when the option is left out; nil when leaving it out means something else
    /// (`defaultText` says what).
    public let defaultValue: LuaValue?
    /// The default in words, where it is not a constant ("the video's end").
    public let defaultText: String?
    public let summary: String

    public init(_ name: String, _ kind: Kind, default defaultValue: LuaValue? = nil, defaultText: String? = nil, summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.defaultText = defaultText
        self.summary = summary
    }

    /// Its LuaLS type.
    public var luaType: String {
        switch kind {
        case .number: "number"
        case .integer: "integer"
        case .choice(let values): values.map { "\"\($0)\"" }.joined(separator: "|")
        }
    }

    /// Its summary with the values it takes, where its type does not say them.
    public var documentation: String {
        switch kind {
        case .number, .integer: "\(summary) Must be \(expectation)."
        case .choice: summary
        }
    }

    /// Its default as the reference shows it.
    public var defaultDescription: String? {
        if let defaultText { return defaultText }
        return switch defaultValue {
        case .string(let s)?: "\"\(s)\""
        case .integer(let i)?: "\(i)"
        case .number(let d)?: number(d)
        default: nil
        }
    }

    /// What it takes, in the words of its error: "a number more than 0 and at most 5".
    public var expectation: String {
        switch kind {
        case .number(let bounds): bounds.spoken.isEmpty ? "a number" : "a number \(bounds.spoken)"
        case .integer(let bounds): bounds.spoken.isEmpty ? "a whole number" : "a whole number \(bounds.spoken)"
        case .choice(let values): Capabilities.spoken(values.map { "\"\($0)\"" })
        }
    }

    /// `value` if this option takes it; otherwise the error's `message` after the function's name.
    func problem(with value: LuaValue) -> String? {
        // The request parser's wording: a wrong type by its name, a wrong value as written.
        let type = value.typeName + (value.stringValue.map { " \"\($0)\"" } ?? "")
        switch kind {
        case .number(let bounds):
            guard let x = value.numberValue else { return "'\(name)' must be a number (got \(type))" }
            return bounds.contains(x) ? nil : "'\(name)' must be \(bounds.spoken) (got \(LuaJSON.describe(value)))"
        case .integer(let bounds):
            switch value {
            case .integer(let i): return bounds.contains(Double(i)) ? nil : "'\(name)' must be \(bounds.spoken) (got \(i))"
            case .number(let d): return "'\(name)' must be a whole number (got \(d))"
            default: return "'\(name)' must be a whole number (got \(type))"
            }
        case .choice(let values):
            guard case .string(let s) = value else { return "'\(name)' must be \(expectation) (got \(type))" }
            return values.contains(s) ? nil : "'\(name)' must be \(expectation) (got \"\(s)\")"
        }
    }

    /// Checks `value`, argument `argument` of `function`, against `options`: nil is no options;
    /// anything else must be a table of declared names with values they take. The result holds
    /// each option given, or else its default.
    static func check(_ value: LuaValue, of function: String, argument: Int, against options: [LuaOption]) throws(LuaErrorTable) -> CheckedOptions {
        let given: LuaTable
        switch value {
        case .nil: given = LuaTable()
        case .table(let t): given = t
        default: throw LuaErrorTable.notATable(function: function, argument: argument, got: value)
        }
        let names = options.map(\.name)
        // In name order, so the same table always gets the same error.
        for (key, item) in given.entries.sorted(by: { LuaJSON.describe($0.key) < LuaJSON.describe($1.key) }) {
            guard case .string(let name) = key, let option = options.first(where: { $0.name == name }) else {
                let name = key.stringValue ?? LuaJSON.describe(key)
                let hint = nearestName(to: name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw LuaErrorTable("\(function): unknown option '\(name)'\(hint); it takes \(names.joined(separator: ", "))")
            }
            if let problem = option.problem(with: item) { throw LuaErrorTable("\(function): \(problem)") }
        }
        return CheckedOptions(given: given, declared: options)
    }
}

/// An options table that passed its check: each option as given, or its default.
struct CheckedOptions {
    let given: LuaTable
    let declared: [LuaOption]

    subscript(name: String) -> LuaValue {
        let value = given[name]
        return value.isNil ? (declared.first { $0.name == name }?.defaultValue ?? .nil) : value
    }

    func isGiven(_ name: String) -> Bool { !given[name].isNil }

    /// Given and default values, as the table a Lua caller reads (`map`'s).
    var table: LuaTable {
        var out = given
        for option in declared where out[option.name].isNil {
            if let value = option.defaultValue { out[option.name] = value }
        }
        return out
    }
}

/// `5`, `0.5`: a bound or a default as a person writes it.
private func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
