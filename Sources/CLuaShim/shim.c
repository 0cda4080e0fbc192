#include "CLuaShim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The address of this byte is the host-wait marker: a light userdata no script can forge.
static char wait_marker;
static reel_dispatch_fn dispatch = NULL;

void reel_set_dispatch(reel_dispatch_fn fn) { dispatch = fn; }

reel_state_info *reel_info(lua_State *L) { return *(reel_state_info **)lua_getextraspace(L); }

// Counts every byte Lua holds. The limit applies only while Lua code runs: while Swift code
// runs (enforce_limit == 0) an allocation failure would longjmp across Swift frames, so
// there we allocate regardless and let the hook stop the script right after.
static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    reel_state_info *info = (reel_state_info *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        info->bytes_in_use -= old;
        return NULL;
    }
    if (info->memory_limit && nsize > old && info->bytes_in_use - old + nsize > info->memory_limit) {
        info->memory_limit_hit = 1;
        info->stop_requested = 1;
        if (info->stop_reason == REEL_STOP_NONE) info->stop_reason = REEL_STOP_MEMORY;
        if (info->enforce_limit) return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) {
        if (!info->enforce_limit) abort(); // never longjmp over Swift: fail loudly instead
        return NULL;
    }
    info->bytes_in_use = info->bytes_in_use - old + nsize;
    return p;
}

static int panic_handler(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "reel: unprotected Lua error: %s\n", msg ? msg : "(not a string)");
    abort();
}

lua_State *reel_newstate(reel_state_info *info) {
    info->instructions_left = INT64_MAX;
    lua_State *L = lua_newstate(counting_alloc, info);
    if (L == NULL) return NULL;
    *(reel_state_info **)lua_getextraspace(L) = info;
    lua_atpanic(L, panic_handler);
    return L;
}

static int open_all(lua_State *L) {
    luaL_openlibs(L);
    reel_install_counted_string_functions(L);
    reel_install_counted_table_functions(L);
    return 0;
}

int reel_openlibs(lua_State *L) {
    lua_pushcfunction(L, open_all);
    return lua_pcall(L, 0, 0, 0);
}

static const char *stop_message(int reason) {
    switch (reason) {
    case REEL_STOP_INSTRUCTIONS: return "reel: script stopped: instruction limit reached (raise it with --max-instructions)";
    case REEL_STOP_MEMORY: return "reel: script stopped: memory limit reached (raise it with --max-memory)";
    default: return "reel: script stopped: interrupted";
    }
}

// Once a stop is requested the hook fires on every instruction, so a script's own pcall
// cannot swallow the stop: the first instruction after the pcall raises again.
static void count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    reel_charge_steps(L, reel_info(L)->hook_interval);
}

void reel_charge_steps(lua_State *L, int64_t steps) {
    reel_state_info *info = reel_info(L);
    if (info->instructions_left != INT64_MAX) {
        info->instructions_left -= steps;
        if (info->instructions_left <= 0 && !info->stop_requested) {
            info->stop_reason = REEL_STOP_INSTRUCTIONS;
            info->stop_requested = 1;
        }
    }
    if (info->stop_requested) {
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "%s", stop_message(info->stop_reason));
    }
}

// A stop raised from the hook runs xpcall's message handler with hooks off (Lua leaves
// allowhook cleared when a hook raises), so a handler that loops would never be stopped.
// The prelude's xpcall asks this first and skips the handler once a stop is requested.
static int stop_requested_fn(lua_State *L) {
    lua_pushboolean(L, reel_info(L)->stop_requested);
    return 1;
}

void reel_push_stop_query(lua_State *L) { lua_pushcfunction(L, stop_requested_fn); }

void reel_install_hook(lua_State *L, int interval) {
    reel_info(L)->hook_interval = interval;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, interval);
}

// A resumed host wait continues here with the scheduler's values: (true, results...) or
// (false, error). The raise happens in C, after every Swift frame has returned.
static int host_continue(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    (void)ctx;
    if (lua_toboolean(L, 1)) return lua_gettop(L) - 1;
    lua_settop(L, 2);
    return lua_error(L);
}

static int host_trampoline(lua_State *L) {
    reel_state_info *info = reel_info(L);
    void *entry = lua_touserdata(L, lua_upvalueindex(1));
    int saved = info->enforce_limit;
    info->enforce_limit = 0;
    int result = dispatch(L, entry);
    info->enforce_limit = saved;
    if (result >= 0) return result;
    if (result == REEL_HOST_RAISE) return lua_error(L);
    // REEL_HOST_YIELD: Swift registered the wait; hand the scheduler the marker.
    lua_settop(L, 0);
    lua_pushlightuserdata(L, &wait_marker);
    return lua_yieldk(L, 1, 0, host_continue);
}

void reel_push_host_function(lua_State *L, void *entry) {
    lua_pushlightuserdata(L, entry);
    lua_pushcclosure(L, host_trampoline, 1);
}

void reel_push_wait_marker(lua_State *L) { lua_pushlightuserdata(L, &wait_marker); }

int reel_is_wait_marker(lua_State *L, int index) {
    return lua_type(L, index) == LUA_TLIGHTUSERDATA && lua_touserdata(L, index) == &wait_marker;
}

static reel_release_fn release = NULL;
static char object_tag; // key in a metatable that marks userdata holding a Swift object

void reel_set_release(reel_release_fn fn) { release = fn; }

static int object_gc(lua_State *L) {
    void **slot = (void **)lua_touserdata(L, 1);
    if (slot != NULL && *slot != NULL && release != NULL) {
        release(*slot);
        *slot = NULL;
    }
    return 0;
}

void reel_push_object_metatable(lua_State *L, const char *tname) {
    if (luaL_newmetatable(L, tname)) {
        lua_pushcfunction(L, object_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 1);
        lua_rawsetp(L, -2, &object_tag);
    }
}

void reel_push_object(lua_State *L, void *object, const char *tname) {
    void **slot = (void **)lua_newuserdatauv(L, sizeof(void *), 0);
    *slot = object;
    reel_push_object_metatable(L, tname);
    lua_setmetatable(L, -2);
}

void *reel_to_object(lua_State *L, int index) {
    if (lua_type(L, index) != LUA_TUSERDATA || !lua_getmetatable(L, index)) return NULL;
    lua_rawgetp(L, -1, &object_tag);
    int ours = lua_toboolean(L, -1);
    lua_pop(L, 2);
    if (!ours) return NULL;
    return *(void **)lua_touserdata(L, index);
}

// Host objects with fields (a Video): read-only records. __index looks in the methods
// table (upvalue 1), then asks the fields function (upvalue 2); __newindex refuses with the
// message in its upvalue; __pairs walks a fresh table of the fields. The field functions are
// host functions: any error they raise unwinds only these C frames.
static int object_index(lua_State *L) {
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

static int object_newindex(lua_State *L) {
    return luaL_error(L, "%s", lua_tostring(L, lua_upvalueindex(1)));
}

static int object_next(lua_State *L) {
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int object_pairs(lua_State *L) {
    lua_pushcfunction(L, object_next);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    lua_pushnil(L);
    return 3;
}

void reel_set_object_accessors(lua_State *L, const char *tname, const char *readonly_message) {
    int methods = lua_gettop(L) - 2, field = lua_gettop(L) - 1, fields = lua_gettop(L);
    reel_push_object_metatable(L, tname);
    lua_pushvalue(L, methods);
    lua_pushvalue(L, field);
    lua_pushcclosure(L, object_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, readonly_message);
    lua_pushcclosure(L, object_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, fields);
    lua_pushcclosure(L, object_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushstring(L, tname);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 4);
}

int reel_load_text(lua_State *L, const char *buffer, size_t length, const char *chunkname) {
    return luaL_loadbufferx(L, buffer, length, chunkname, "t");
}

static int traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int reel_pcall_traceback(lua_State *L, int nargs, int nresults) {
    reel_state_info *info = reel_info(L);
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback_handler);
    lua_insert(L, base);
    int saved = info->enforce_limit;
    info->enforce_limit = 1;
    int status = lua_pcall(L, nargs, nresults, base);
    info->enforce_limit = saved;
    lua_remove(L, base);
    return status;
}

static int tostring_fn(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

int reel_tostring_protected(lua_State *L, int index) {
    index = lua_absindex(L, index);
    lua_pushcfunction(L, tostring_fn);
    lua_pushvalue(L, index);
    return lua_pcall(L, 1, 1, 0);
}

void reel_push_traceback(lua_State *L, lua_State *thread, const char *message, int level) {
    luaL_traceback(L, thread, message, level);
}

int reel_where(lua_State *L, char *source, size_t source_size, int *line) {
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar)) return 0;
        if (ar.currentline <= 0) continue;                    // C function or no line info
        if (strncmp(ar.source, "=(reel)", 7) == 0) continue;  // reel's own Lua prelude
        snprintf(source, source_size, "%s", ar.short_src);
        *line = ar.currentline;
        return 1;
    }
    return 0;
}

static int plain_noop(lua_State *L) {
    (void)L;
    return 0;
}

void reel_push_plain_noop(lua_State *L) { lua_pushcfunction(L, plain_noop); }

int reel_registryindex(void) { return LUA_REGISTRYINDEX; }
void reel_pop(lua_State *L, int n) { lua_pop(L, n); }
void reel_insert(lua_State *L, int index) { lua_insert(L, index); }
void reel_remove(lua_State *L, int index) { lua_remove(L, index); }
lua_Integer reel_tointeger(lua_State *L, int index, int *isnum) { return lua_tointegerx(L, index, isnum); }
lua_Number reel_tonumber(lua_State *L, int index, int *isnum) { return lua_tonumberx(L, index, isnum); }
const char *reel_tolstring(lua_State *L, int index, size_t *len) { return lua_tolstring(L, index, len); }

int reel_resume(lua_State *L, lua_State *from, int nargs, int *nresults) {
    reel_state_info *info = reel_info(L);
    int saved = info->enforce_limit;
    info->enforce_limit = 1;
    int status = lua_resume(L, from, nargs, nresults);
    info->enforce_limit = saved;
    return status;
}
