-- reel's preview: the dry pass `reel run` makes before a live run to estimate what the
-- script will spend. Run after the prelude (and the sandbox, if any). The pass must leave no
-- trace: nothing printed, no file written, removed or renamed, no program run, no standard
-- input read. A script that needs any of these ends the pass, and the run shows no estimate.
-- luacheck: globals print os io
local function refuse(name)
  return function() error(name .. " is not available in the estimate's dry pass", 2) end
end
print = function() end
io.write = function() return io.stdout end
io.read = refuse("io.read")
os.execute = refuse("os.execute")
io.popen = refuse("io.popen")
os.exit = refuse("os.exit")
os.remove = refuse("os.remove")
os.rename = refuse("os.rename")
os.tmpname = refuse("os.tmpname")
io.output = refuse("io.output")
io.stdin = nil
local raw_open, raw_lines = io.open, io.lines
function io.open(path, mode)
  if (mode or "r"):find("[wa+]") then error("writing files is not available in the estimate's dry pass", 2) end
  return raw_open(path, mode)
end
function io.lines(path, ...)
  if path == nil then error("reading standard input is not available in the estimate's dry pass", 2) end
  return raw_lines(path, ...)
end
io.input = refuse("io.input")
