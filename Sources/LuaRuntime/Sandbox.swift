import CLua
import CLuaShim
import Foundation

extension LuaState {
    /// Takes from scripts what could harm the machine or reach the process's secrets: no
    /// programs (`os.execute`, `io.popen`), no native code (`package.loadlib`, C modules), no
    /// `debug`, no `os.exit`, no files written outside `writableDirectories`, no files read
    /// outside those and `readableDirectories` (the script's folder: its modules and data),
    /// and nothing read from `/proc`, `/sys` or `/dev` (where a process's memory and
    /// environment live). Paths are resolved through symlinks before they are compared.
    public func applySandbox(writableDirectories: [String], readableDirectories: [String] = []) throws(LuaScriptError) {
        let roots = writableDirectories.map(Self.resolvedPath)
        let readable = roots + readableDirectories.map(Self.resolvedPath)
        pushHostFunction(named: "sandbox", body: .host({ call in
            guard case .string(let path) = try call.argument(1) else { return .values([.boolean(true)]) }
            let writing = (try call.argument(2)).stringValue == "w"
            let resolved = Self.resolvedPath(path)
            for forbidden in ["/proc", "/sys", "/dev"] where resolved == forbidden || resolved.hasPrefix(forbidden + "/") {
                return .values([.boolean(false), .string("\(path): \(forbidden) is out of bounds in --sandbox")])
            }
            if writing && !Self.isInside(resolved, roots) {
                let allowed = roots.joined(separator: ", ")
                return .values([.boolean(false), .string("\(path): --sandbox allows writing only under \(allowed)")])
            }
            if !writing && !Self.isInside(resolved, readable) {
                let allowed = readable.joined(separator: ", ")
                return .values([.boolean(false), .string("\(path): --sandbox allows reading only under \(allowed)")])
            }
            return .values([.boolean(true)])
        }))
        defer { reel_pop(L, 1) }
        try runSetupChunk(Self.sandboxSource, with: [lua_gettop(L)])
    }

    /// Whether the resolved `path` is one of `roots` or inside one.
    public static func isInside(_ path: String, _ roots: [String]) -> Bool {
        roots.contains { path == $0 || path.hasPrefix($0 == "/" ? "/" : $0 + "/") }
    }

    /// `path` made absolute with symlinks resolved, as far as it exists (a file not yet
    /// written resolves through its folder).
    public static func resolvedPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var existing = (absolute as NSString).standardizingPath
        var rest: [String] = []
        while !existing.isEmpty && existing != "/" {
            if let real = realpath(existing, nil) {
                defer { free(real) }
                let base = String(cString: real)
                return rest.isEmpty ? base : (base as NSString).appendingPathComponent(rest.reversed().joined(separator: "/"))
            }
            rest.append((existing as NSString).lastPathComponent)
            existing = (existing as NSString).deletingLastPathComponent
        }
        return "/" + rest.reversed().joined(separator: "/")
    }

    /// Makes a run leave no trace, for the dry pass that estimates a live run before it
    /// starts: `print` and `io.write` say nothing, and writing files, running programs and
    /// reading standard input raise errors (which end the pass). See `Lua/preview.lua`.
    public func applyPreview() throws(LuaScriptError) {
        try runSetupChunk(Self.previewSource, with: [])
    }

    static let previewSource = String(decoding: PackageResources.preview_lua, as: UTF8.self)

    /// `Lua/sandbox.lua`, compiled into the binary.
    static let sandboxSource = String(decoding: PackageResources.sandbox_lua, as: UTF8.self)
}
