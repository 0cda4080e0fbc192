-- reel's prelude: run once in every Lua state before any script, with reel's host
-- primitives as arguments. Lua's own coroutine functions pass host waits through, map,
-- parallel and spawn run work side by side, and chunks load as text only.
-- luacheck: globals coroutine xpcall spawn parallel map load loadfile dofile package require
-- check_options checks map's options against their declaration (the host's) and fills in
-- defaults; usage_error raises reel's error table {code, message, where} at the script's line.
local marker, spawn_raw, wait_raw, stop_requested, check_options, usage_error = ...
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local pack, unpack, select, type, error, pcall = table.pack, table.unpack, select, type, error, pcall

-- Once reel stops a script (a limit, Ctrl-C, SIGTERM), message handlers are skipped:
-- Lua runs them with hooks off, so a looping handler could not be stopped.
local raw_xpcall = xpcall
function xpcall(f, handler, ...)
  if type(handler) ~= "function" then return raw_xpcall(f, handler, ...) end
  return raw_xpcall(f, function(e)
    if stop_requested() then return e end
    return handler(e)
  end, ...)
end

-- A host wait inside a user's own coroutine yields reel's marker. Pass it up to the
-- scheduler and hand the answer back down, so the user's coroutine never sees it.
local function forward(co, ok, ...)
  if ok and select("#", ...) == 1 and (...) == marker then
    return forward(co, co_resume(co, co_yield(marker)))
  end
  return ok, ...
end
function coroutine.resume(co, ...)
  return forward(co, co_resume(co, ...))
end
function coroutine.wrap(f)
  local co = co_create(f)
  local function finish(ok, ...)
    if not ok then error((...), 0) end
    return ...
  end
  return function(...) return finish(coroutine.resume(co, ...)) end
end

function spawn(fn, ...)
  if type(fn) ~= "function" then
    usage_error(("spawn: 'fn' must be a function (got %s)"):format(type(fn)))
  end
  return spawn_raw(fn, ...)
end

function parallel(...)
  local fns = pack(...)
  for i = 1, fns.n do
    if type(fns[i]) ~= "function" then
      usage_error(("parallel: argument %d must be a function (got %s)"):format(i, type(fns[i])))
    end
  end
  local handles = {}
  for i = 1, fns.n do handles[i] = spawn_raw(fns[i]) end
  -- Wait for every branch even after one fails: their generations are paid for.
  local results, failure = {}, nil
  for i = 1, fns.n do
    local ok, value = pcall(wait_raw, handles[i])
    if ok then results[i] = value elseif failure == nil then failure = value end
  end
  if failure ~= nil then error(failure, 0) end
  return unpack(results, 1, fns.n)
end

function map(list, fn, opts)
  if type(list) ~= "table" then usage_error(("map: 'list' must be a table (got %s)"):format(type(list))) end
  if type(fn) ~= "function" then usage_error(("map: 'fn' must be a function (got %s)"):format(type(fn))) end
  opts = check_options("map", opts, 3)
  local n = #list
  local limit = opts.concurrency or n
  local collect = opts.errors == "collect"
  local results, failures, next_index = {}, {}, 1
  local function worker()
    while next_index <= n do
      local i = next_index
      next_index = i + 1
      local ok, value = pcall(fn, list[i], i)
      if ok then results[i] = value else failures[#failures + 1] = { index = i, value = value } end
    end
  end
  local handles = {}
  for w = 1, math.min(limit, n) do handles[w] = spawn_raw(worker) end
  for w = 1, #handles do wait_raw(handles[w]) end
  if #failures > 0 then
    table.sort(failures, function(a, b) return a.index < b.index end)
    if not collect then error(failures[1].value, 0) end
    -- errors = "collect": a failed item's place holds its error table, marked with its index.
    for _, failure in ipairs(failures) do
      local e = failure.value
      if type(e) ~= "table" then e = { code = "script_error", message = tostring(e) } end
      e.index = failure.index
      e.failed = true
      results[failure.index] = e
    end
  end
  return results
end

-- Scripts load as text only: binary chunks can crash the VM. `mode` is taken and ignored.
local raw_load = load
function load(chunk, name, mode, env) -- luacheck: no unused args
  if env ~= nil then return raw_load(chunk, name, "t", env) end
  return raw_load(chunk, name, "t")
end
function loadfile(path, mode, env) -- luacheck: no unused args
  local file, err = io.open(path, "rb")
  if not file then return nil, err end
  local text = file:read("a")
  file:close()
  return load(text, "@" .. path, "t", env)
end
function dofile(path)
  local fn = assert(loadfile(path))
  return fn()
end
if package and package.searchers then
  package.searchers[2] = function(name)
    local path, err = package.searchpath(name, package.path)
    if not path then return err end
    local fn, lerr = loadfile(path)
    if not fn then error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, lerr), 2) end
    return fn, path
  end
end

-- Lua's require runs a module's chunk from C, where a host wait cannot yield ("attempt to
-- yield across a C-call boundary"): a module that generates while it loads failed. This is
-- the same require (package.loaded, package.searchers, the same messages) in Lua, so the
-- chunk is an ordinary Lua call and may wait.
if package and package.loaded then
  local loaded, concat, tostring = package.loaded, table.concat, tostring
  function require(name)
    local kind = type(name)
    if kind ~= "string" and kind ~= "number" then
      error(("bad argument #1 to 'require' (string expected, got %s)"):format(name == nil and "no value" or kind), 2)
    end
    name = tostring(name)
    if loaded[name] then return loaded[name] end
    local searchers = package.searchers
    if type(searchers) ~= "table" then error("'package.searchers' must be a table", 2) end
    local messages = {}
    for i = 1, math.huge do
      local searcher = rawget(searchers, i)
      if searcher == nil then error(("module '%s' not found:%s"):format(name, concat(messages)), 2) end
      local loader, data = searcher(name)
      if type(loader) == "function" then
        local result = loader(name, data)
        if result ~= nil then loaded[name] = result end
        if loaded[name] == nil then loaded[name] = true end
        return loaded[name], data
      elseif type(loader) == "string" or type(loader) == "number" then
        messages[#messages + 1] = "\n\t" .. loader
      end
    end
  end
end
