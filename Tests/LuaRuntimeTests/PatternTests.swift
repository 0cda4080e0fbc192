import Testing
@testable import LuaRuntime

/// string.find, match, gmatch, gsub, rep, table.concat and table.move are reel's counted copies
/// (CLuaShim/pattern.c, table.c): they must answer exactly as Lua 5.4's own do.
@Suite struct PatternTests {
    @Test func theCountedMatcherKeepsLuasSemantics() async throws {
        let lua = try LuaState()
        let out = try await lua.run(#"""
            local function eq(a, b, what) assert(a == b, what .. ": got " .. tostring(a) .. ", want " .. tostring(b)) end
            local function all(...) return table.concat({...}, "|") end
            eq(all(("hello world"):find("o w")), "5|7", "plain find")
            eq(all(("hello world"):find("o", 6)), "8|8", "find from init")
            eq(all(("hello"):find("l", -2)), "4|4", "negative init")
            eq(("hello"):find("x"), nil, "no match")
            eq(all(("a.b"):find(".", 1, true)), "2|2", "plain flag")
            eq(all(("hello"):find("")), "1|0", "empty pattern")
            eq(("hello"):find("", 10), nil, "init past the end")
            eq(all(("key = value"):find("(%w+)%s*=%s*(%w+)")), "1|11|key|value", "find with captures")
            eq(all(("key = value"):match("(%w+)%s*=%s*(%w+)")), "key|value", "match")
            eq(("  trim  "):match("^%s*(.-)%s*$"), "trim", "trim")
            eq(all(("abc"):match("()b()")), "2|3", "position captures")
            eq(("THE (quick) fox"):match("%((%a+)%)"), "quick", "escaped parens")
            eq(("f(a(b)c)d"):match("%b()"), "(a(b)c)", "balanced")
            eq(("THE (quick) fox"):find("%f[%a]%a+%f[%A]", 5), 6, "frontier")
            eq(("hello hello"):match("(h%a+) %1"), "hello", "back reference")
            eq(("[x]"):match("[%[]"), "[", "escaped bracket in a set")
            eq(("a-b"):match("[a%-]+"), "a-", "dash in a set")
            eq(("x9"):match("[^%a]"), "9", "negated set")
            eq(("2024-01-05"):match("^(%d+)-(%d+)-(%d+)$"), "2024", "anchored")
            eq(("aaa"):match("a-b"), nil, "lazy fails")
            eq(("aaab"):match("a-b"), "aaab", "lazy")
            eq(("ab$"):match("b%$"), "b$", "escaped dollar")
            eq(("a$b"):match("$b"), "$b", "dollar not last")
            eq(("xay"):match("a?y"), "ay", "optional")
            local words = {}
            for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
            eq(table.concat(words, ","), "one,two,three", "gmatch")
            local pairs_ = {}
            for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do pairs_[#pairs_ + 1] = k .. v end
            eq(table.concat(pairs_, ","), "a1,b2", "gmatch captures")
            local n = 0
            for _ in ("abc"):gmatch("") do n = n + 1 end
            eq(n, 4, "gmatch empty")
            local from3 = {}
            for w in ("one two three"):gmatch("%a+", 5) do from3[#from3 + 1] = w end
            eq(table.concat(from3, ","), "two,three", "gmatch init")
            eq(all(("hello world"):gsub("o", "0")), "hell0 w0rld|2", "gsub string")
            eq(all(("hello world"):gsub("o", "0", 1)), "hell0 world|1", "gsub max")
            eq(all(("hello"):gsub("", "-")), "-h-e-l-l-o-|6", "gsub empty")
            eq(all(("abc"):gsub("%w", "%0%0")), "aabbcc|3", "gsub %0")
            eq(all(("hello world"):gsub("(%w+) (%w+)", "%2 %1")), "world hello|1", "gsub swap")
            eq(all(("$name is $age"):gsub("%$(%w+)", { name = "ann", age = 7 })), "ann is 7|2", "gsub table")
            eq(all(("abc"):gsub("%w", function(c) if c == "b" then return false end return c:upper() end)), "AbC|3", "gsub function")
            eq(all(("abc"):gsub("()", "%1")), "1a2b3c4|4", "gsub position capture")
            eq(all(("abc"):gsub("^a", "x")), "xbc|1", "gsub anchored")
            eq(all(("100%"):gsub("%%", "%%%%")), "100%%|1", "gsub percent")
            eq(("x"):rep(3), "xxx", "rep")
            eq(("x"):rep(3, ","), "x,x,x", "rep sep")
            eq(("x"):rep(0), "", "rep zero")
            eq(("x"):rep(-1), "", "rep negative")
            eq(("ab\0c"):find("\0", 1, true), 3, "NUL plain")
            eq(("ab\0c"):match("%z") or ("ab\0c"):match("\0"), "\0", "NUL in a pattern")
            local function fails(f, want)
              local ok, err = pcall(f)
              assert(not ok and err:find(want, 1, true), "want error " .. want .. ", got " .. tostring(err))
            end
            fails(function() return ("a"):find("%") end, "malformed pattern (ends with '%')")
            fails(function() return ("a"):find("[a") end, "malformed pattern (missing ']')")
            fails(function() return ("a"):find("(a") end, "unfinished capture")
            fails(function() return ("a"):match("a)") end, "invalid pattern capture")
            fails(function() return ("a"):find("%1") end, "invalid capture index %1")
            fails(function() return ("a"):find("%b") end, "missing arguments to '%b'")
            fails(function() return ("a"):find("%fa") end, "missing '[' after '%f' in pattern")
            fails(function() return ("a"):gsub("a", "%2") end, "invalid capture index %2")
            fails(function() return ("a"):gsub("a", "%x") end, "invalid use of '%' in replacement string")
            fails(function() return ("a"):gsub("a", {a = {}}) end, "invalid replacement value (a table)")
            fails(function() return ("a"):gsub("a", true) end, "string/function/table expected")
            fails(function() return ("a"):rep(1 << 40, "bb") end, "resulting string too large")
            fails(function() return ("a"):rep(40):find(("(a)"):rep(40)) end, "too many captures")
            fails(function() return ("a"):rep(300):find(("a?"):rep(300)) end, "pattern too complex")
            local t = { 1, 2, 3, 4, 5 }
            table.move(t, 1, 4, 2)
            eq(table.concat(t, ","), "1,1,2,3,4", "move up, overlapping")
            table.move(t, 2, 5, 1)
            eq(table.concat(t, ","), "1,2,3,4,4", "move down, overlapping")
            local u = table.move({ 1, 2, 3 }, 1, 3, 3, {})
            eq(tostring(u[1]) .. u[3] .. u[5], "nil13", "move into another table")
            eq(table.concat({}), "", "concat empty")
            eq(table.concat({ 1, "a", 2.5 }, "-"), "1-a-2.5", "concat numbers")
            eq(table.concat({ "a", "b", "c" }, ",", 2), "b,c", "concat from")
            eq(table.concat({ "a", "b", "c" }, ",", 3, 2), "", "concat empty range")
            local proxy = setmetatable({}, { __index = function(_, i) return "p" .. i end, __len = function() return 3 end })
            eq(table.concat(proxy, ","), "p1,p2,p3", "concat through metamethods")
            fails(function() return table.concat({ 1, {}, 3 }) end, "invalid value (table) at index 2 in table for 'concat'")
            fails(function() return table.move({}, -1, math.maxinteger, 1) end, "too many elements to move")
            fails(function() return table.move({}, 1, 10, math.maxinteger) end, "destination wrap around")
            fails(function() return table.concat(5) end, "table expected, got number")
            return "ok"
            """#, chunkName: "@patterns.lua")
        #expect(out == ["ok"])
    }
}
