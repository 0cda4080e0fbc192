// CLuaShim: everything Swift cannot or must not do with the Lua C API.
//
// Lua raises errors and yields with longjmp. A longjmp across a Swift frame skips Swift's
// cleanups, so Swift never calls lua_error, luaL_error, luaL_check*, lua_yieldk or lua_callk.
// Instead a registered Swift function returns a status to `reel_host_trampoline`, which
// raises or yields after the Swift frame has returned.
#ifndef REEL_CLUASHIM_H
#define REEL_CLUASHIM_H

#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#include <stddef.h>
#include <stdint.h>

// --- status codes a Swift host function returns (>= 0 means "return that many values") ---
#define REEL_HOST_RAISE (-1)   // the error value is on top of the stack: raise it
#define REEL_HOST_YIELD (-2)   // park this coroutine until the scheduler resumes it

/// Per-state bookkeeping shared by the allocator, the hook and the trampolines.
/// Lives in Swift-owned memory; its address is in the state's extra space.
typedef struct reel_state_info {
    void *owner;                 // the Swift LuaState (unretained)
    size_t bytes_in_use;         // total bytes Lua holds now
    size_t memory_limit;         // 0 = none; enforced only while Lua code runs
    int enforce_limit;           // 1 while Lua code runs, 0 while Swift code runs
    int memory_limit_hit;        // sticky: once hit, the script is being stopped
    int64_t instructions_left;   // counts down in steps of the hook interval; INT64_MAX = no limit
    int hook_interval;           // instructions between two hook calls
    volatile int stop_requested; // set by the host (interrupt, timeout); the hook raises
    int stop_reason;             // REEL_STOP_*
} reel_state_info;

#define REEL_STOP_NONE 0
#define REEL_STOP_INTERRUPT 1
#define REEL_STOP_INSTRUCTIONS 2
#define REEL_STOP_MEMORY 3

/// The Swift side of every registered function: reads its arguments from `L`, pushes results
/// and returns their count, or returns REEL_HOST_RAISE / REEL_HOST_YIELD.
typedef int (*reel_dispatch_fn)(lua_State *L, void *entry);
void reel_set_dispatch(reel_dispatch_fn fn);

/// A new state with the counting allocator; `info` must outlive the state.
lua_State *reel_newstate(reel_state_info *info);
reel_state_info *reel_info(lua_State *L);
/// Opens the standard libraries inside a protected call. Returns a Lua status.
int reel_openlibs(lua_State *L);
/// Installs the count hook that enforces `instructions_left` and `stop_requested`.
void reel_install_hook(lua_State *L, int interval);
/// Charges `steps` to the instruction budget and raises the stop (as the count hook does) when
/// the budget is spent or a stop was requested. For C loops the hook cannot reach (pattern.c).
void reel_charge_steps(lua_State *L, int64_t steps);
/// Replaces string.find, match, gmatch, gsub and rep with copies that charge their steps
/// (pattern.c): Lua's own run in C, where neither the limit nor a stop can reach them.
void reel_install_counted_string_functions(lua_State *L);
/// Replaces table.concat and table.move with copies that charge each element (table.c).
void reel_install_counted_table_functions(lua_State *L);
/// Gives the host-object type `tname` read-only fields. Expects on the stack a table of
/// methods, a function (object, key) -> value, and a function (object) -> table of all fields;
/// pops them.
void reel_set_object_accessors(lua_State *L, const char *tname, const char *readonly_message);
/// Pushes a C function that returns whether a stop has been requested (for the prelude's xpcall).
void reel_push_stop_query(lua_State *L);

/// Pushes a C closure that calls the Swift dispatcher with `entry` (a Swift object the
/// owner keeps alive for the state's lifetime), carried as the closure's upvalue.
void reel_push_host_function(lua_State *L, void *entry);
/// The marker a host wait yields, so the scheduler can tell it from a user's own yield.
void reel_push_wait_marker(lua_State *L);
int reel_is_wait_marker(lua_State *L, int index);

/// Releases a Swift object held by a collected userdata (Unmanaged release).
typedef void (*reel_release_fn)(void *object);
void reel_set_release(reel_release_fn fn);
/// Pushes a full userdata holding `object` (already retained by the caller) with the
/// metatable registered under `tname`, creating that metatable (with __gc) on first use.
void reel_push_object(lua_State *L, void *object, const char *tname);
/// The object inside a userdata made by reel_push_object, or NULL for any other value.
void *reel_to_object(lua_State *L, int index);
/// Pushes the metatable registered under `tname`, creating it as reel_push_object would.
void reel_push_object_metatable(lua_State *L, const char *tname);

/// Loads text only (never binary chunks). Returns a Lua status; on error the message is on top.
int reel_load_text(lua_State *L, const char *buffer, size_t length, const char *chunkname);
/// lua_pcall with a message handler that appends a traceback.
int reel_pcall_traceback(lua_State *L, int nargs, int nresults);
/// luaL_tolstring (honours __tostring) inside a protected call; pushes the string or an error.
int reel_tostring_protected(lua_State *L, int index);
/// Pushes a traceback of `thread` (for a coroutine that died with an error).
void reel_push_traceback(lua_State *L, lua_State *thread, const char *message, int level);
/// Fills `source` (short_src) and `line` for the innermost function on `L`'s stack that
/// belongs to a user's script (skipping C functions and reel's own "=(reel)" prelude).
/// Returns 0 when there is none.
int reel_where(lua_State *L, char *source, size_t source_size, int *line);

/// A plain Lua C function that does nothing: the ceiling a registered Swift function's call
/// cost is measured against (reel-bench).
void reel_push_plain_noop(lua_State *L);

// --- function-like macros Swift cannot import ---
int reel_registryindex(void);
void reel_pop(lua_State *L, int n);
void reel_insert(lua_State *L, int index);
void reel_remove(lua_State *L, int index);
lua_Integer reel_tointeger(lua_State *L, int index, int *isnum);
lua_Number reel_tonumber(lua_State *L, int index, int *isnum);
const char *reel_tolstring(lua_State *L, int index, size_t *len);
int reel_resume(lua_State *L, lua_State *from, int nargs, int *nresults);

#endif
