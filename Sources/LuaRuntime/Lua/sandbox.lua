-- reel's --sandbox: run after the prelude with `check(path, "r"|"w")`, the host function that
-- says whether a path may be read or written. It takes away programs, native code and
-- debug, and sends every file access through `check`.
-- luacheck: globals os io debug package
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
