import VideoAPI

/// Every function reel gives a script, named once. The declarations (`LuaAPI.declaration(of:)`)
/// and the library's bindings (`ReelLibrary.binding(of:)`) switch over it, so a function
/// without either is a compile error; every list of names (registration, `reel.*`, the docs,
/// `.luacheckrc`, REPL completion, the CLI's help, "did you mean") is derived from `allCases`.
public enum LuaFunction: Hashable, Sendable, CaseIterable {
    /// `text_to_video` … `extend`: one per mode, named by `GenerationMode.luaFunction` (the
    /// request parser's messages name them too).
    case generation(GenerationMode)
    case library(Library)

    /// The functions that are not one generation mode's, in the reference's order.
    public enum Library: String, Sendable, CaseIterable {
        case generate
        case lastFrame = "last_frame", frame, concat, trim, seams
        case defaults, budget
        case map, parallel, spawn, sleep
        case log, fmt
    }

    public static let allCases: [LuaFunction] = GenerationMode.allCases.map(generation) + Library.allCases.map(library)

    /// Its name in Lua.
    public var name: String {
        switch self {
        case .generation(let mode): mode.luaFunction
        case .library(let function): function.rawValue
        }
    }

    public init?(name: String) {
        guard let function = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = function
    }

    /// What a function is for, as the CLI's help groups them.
    public enum Role: CaseIterable, Sendable {
        case generation, sideBySide, media, setting, utility
    }

    public var role: Role {
        switch self {
        case .generation, .library(.generate): .generation
        case .library(.map), .library(.parallel), .library(.spawn): .sideBySide
        case .library(.lastFrame), .library(.frame), .library(.concat), .library(.trim), .library(.seams): .media
        case .library(.defaults), .library(.budget): .setting
        case .library(.sleep), .library(.log), .library(.fmt): .utility
        }
    }

    /// The sentence of `reel --help` that lists the functions, by role.
    public static var helpSentence: String {
        // Plain loops: every command builds this sentence while it parses its arguments, and
        // the generic helpers cost a start-up 0.4 ms of the runtime's type look-ups.
        func names(_ role: Role) -> String {
            let words = allCases.filter { $0.role == role }.map { $0.name }
            var text = ""
            for (index, word) in words.enumerated() {
                if index > 0 { text += index == words.count - 1 ? " and " : ", " }
                text += word
            }
            return text
        }
        return "Scripts call \(names(.generation)) to make videos; \(names(.sideBySide)) run them side by side; "
            + "\(names(.media)) turn shots into films; \(names(.setting)) set options and a cap for later calls; "
            + "\(names(.utility)) wait, print and fill in text. `reel docs` writes their reference."
    }

    /// Every name, in the reference's order.
    public static let names = allCases.map(\.name)
}
