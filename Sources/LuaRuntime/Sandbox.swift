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

    static let sandboxSource = #"""
    local check = ...
    local function refuse(name)
      return function() error(name .. " is not available in --sandbox", 2) end
    end
    os.execute = refuse("os.execute")
    io.popen = refuse("io.popen")
    os.exit = refuse("os.exit")
    os.tmpname = refuse("os.tmpname")
    package.loadlib = refuse("package.loadlib")
    package.cpath = ""
    if package.searchers then package.searchers[3] = nil; package.searchers[4] = nil end
    debug = nil
    package.loaded.debug = nil

    local raw_open, raw_lines, raw_input, raw_output = io.open, io.lines, io.input, io.output
    local raw_remove, raw_rename = os.remove, os.rename
    function io.open(path, mode)
      local ok, why = check(path, (mode or "r"):find("[wa+]") and "w" or "r")
      if not ok then return nil, why end
      return raw_open(path, mode)
    end
    -- io.lines, io.input and io.output take a path or a file: a path is checked first.
    local function guarded(raw, mode)
      return function(file, ...)
        if type(file) == "string" then
          local ok, why = check(file, mode)
          if not ok then error(why, 2) end
        end
        return raw(file, ...)
      end
    end
    io.lines = guarded(raw_lines, "r")
    io.input = guarded(raw_input, "r")
    io.output = guarded(raw_output, "w")
    function os.remove(path)
      local ok, why = check(path, "w")
      if not ok then return nil, why end
      return raw_remove(path)
    end
    function os.rename(from, to)
      local ok, why = check(from, "w")
      if ok then ok, why = check(to, "w") end
      if not ok then return nil, why end
      return raw_rename(from, to)
    end
    """#
}
