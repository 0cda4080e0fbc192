import CLua
import CLuaShim

// The coroutine scheduler: every script, and every `spawn`, runs as a Lua thread that this
// owner resumes. A host function that waits yields reel's private marker; the scheduler
// starts the Swift work in a task and, when it finishes, resumes that thread with the
// result. Only the owner ever touches the lua_State.

/// One scheduled Lua thread.
final class Coroutine {
    let thread: OpaquePointer
    var threadRef: Int32
    var outcome: Outcome?
    /// Coroutines parked in `:wait()` on this one.
    var waiters: [Coroutine] = []
    /// The Swift work this coroutine is parked on, if any.
    var pending: Task<Void, Never>?
    /// Parked on another coroutine's `:wait()`.
    var blockedOnCoroutine = false
    /// Someone asked for the outcome (so a failure is not reported as unobserved).
    var observed = false
    let isMain: Bool

    enum Outcome {
        case finished(ref: Int32, count: Int32)
        case failed(ref: Int32, message: String, traceback: String)
    }

    init(thread: OpaquePointer, threadRef: Int32, isMain: Bool) {
        self.thread = thread
        self.threadRef = threadRef
        self.isMain = isMain
    }
}

/// The handle `spawn` returns; `handle:wait()` parks until the coroutine ends.
final class SpawnHandle {
    let coroutine: Coroutine
    init(_ coroutine: Coroutine) { self.coroutine = coroutine }
}

/// What a parked coroutine is resumed with.
enum ResumeInput {
    case start(argumentCount: Int32)
    case values([LuaValue])
    case thrown(any Error, position: String?)
    case outcome(of: Coroutine)
}

struct Completion: Sendable {
    let coroutineID: ObjectIdentifier
    let result: Result<[LuaValue], any Error>
    let position: String?
}

struct SchedulerState {
    var ready: [(Coroutine, ResumeInput)] = []
    var current: Coroutine?
    var live: [ObjectIdentifier: Coroutine] = [:]
    var pendingCount = 0
    var completions: AsyncStream<Completion>.Continuation?
    /// Spawned coroutines that failed and that nobody has waited for (yet).
    var unobserved: [Coroutine] = []
}

extension LuaState {
    static let spawnHandleType = "reel.Task"

    /// Runs `source` as the main coroutine, with `arguments` as its `...`, until it and
    /// everything it spawned have finished. Returns the main chunk's results.
    public func run(_ source: String, chunkName: String, arguments: [LuaValue] = []) async throws(LuaScriptError) -> [LuaValue] {
        try load(source, chunkName: chunkName)
        for a in arguments { push(a, on: L) }
        // Cancelling the run (Ctrl-C, SIGTERM, SIGHUP) also stops Lua code that never waits:
        // the count hook raises at the script's next instruction, even inside a busy loop.
        nonisolated(unsafe) let info = self.info
        let outcome: Result<[LuaValue], LuaScriptError> = await withTaskCancellationHandler {
            do throws(LuaScriptError) {
                return .success(try await runMain(argumentCount: Int32(arguments.count)))
            } catch {
                return .failure(error)
            }
        } onCancel: {
            LuaState.requestStop(info)
        }
        return try outcome.get()
    }

    /// Whether a chunk is complete Lua, unfinished (more lines would complete it: a REPL
    /// waits for them), or wrong.
    public enum Completeness: Equatable, Sendable {
        case complete, incomplete
        case error(String)
    }

    public func completeness(of source: String, chunkName: String = "=input") -> Completeness {
        do {
            try load(source, chunkName: chunkName)
            reel_pop(L, 1)
            return .complete
        } catch {
            return error.message.hasSuffix("<eof>") ? .incomplete : .error(error.message)
        }
    }

    /// Runs the function on top of the stack (below its `argumentCount` arguments).
    func runMain(argumentCount: Int32) async throws(LuaScriptError) -> [LuaValue] {
        let main = makeCoroutine(movingFunctionAndArguments: argumentCount, from: L, isMain: true)
        scheduler.ready.append((main, .start(argumentCount: argumentCount)))
        let (stream, continuation) = AsyncStream.makeStream(of: Completion.self)
        scheduler.completions = continuation
        defer {
            continuation.finish()
            scheduler.completions = nil
        }
        var iterator = stream.makeAsyncIterator()

        while true {
            while !scheduler.ready.isEmpty {
                let batch = scheduler.ready
                scheduler.ready = []
                for (coroutine, input) in batch {
                    step(coroutine, input)
                    if case .failed = main.outcome {
                        cancelAll()
                        throw scriptError(of: main)
                    }
                }
            }
            if scheduler.live.isEmpty { break }
            if scheduler.pendingCount == 0 {
                // Everything left waits on another coroutine: nothing can ever wake them.
                for coroutine in scheduler.live.values {
                    scheduler.ready.append((coroutine, .thrown(LuaArgumentError("deadlock: every task is waiting for another task"), position: nil)))
                }
                continue
            }
            guard let completion = await iterator.next() else {
                cancelAll()
                throw LuaScriptError(message: "reel: interrupted", stopReason: .interrupted)
            }
            scheduler.pendingCount -= 1
            guard let coroutine = scheduler.live[completion.coroutineID] else { continue }
            coroutine.pending = nil
            switch completion.result {
            case .success(let values): scheduler.ready.append((coroutine, .values(values)))
            case .failure(let error): scheduler.ready.append((coroutine, .thrown(error, position: completion.position)))
            }
        }

        if let orphan = scheduler.unobserved.first {
            throw scriptError(of: orphan)
        }
        guard case .finished(let ref, let count) = main.outcome else {
            throw LuaScriptError(message: "reel: the script did not finish")
        }
        return (try? outcomeValues(ref: ref, count: count)) ?? []
    }

    func makeCoroutine(movingFunctionAndArguments count: Int32, from source: OpaquePointer, isMain: Bool) -> Coroutine {
        let thread = lua_newthread(source)!
        let ref = luaL_ref(source, reel_registryindex())
        lua_xmove(source, thread, count + 1)
        let coroutine = Coroutine(thread: thread, threadRef: ref, isMain: isMain)
        scheduler.live[ObjectIdentifier(coroutine)] = coroutine
        return coroutine
    }

    /// Resumes one coroutine and files what it did: parked, finished, or failed.
    private func step(_ coroutine: Coroutine, _ input: ResumeInput) {
        let T = coroutine.thread
        var argumentCount: Int32
        switch input {
        case .start(let n):
            argumentCount = n
        case .values(let values):
            lua_checkstack(T, Int32(values.count) + 2)
            lua_pushboolean(T, 1)
            for v in values { push(v, on: T) }
            argumentCount = Int32(values.count) + 1
        case .thrown(let error, let position):
            lua_checkstack(T, 2)
            lua_pushboolean(T, 0)
            pushError(error, position: position, on: T)
            argumentCount = 2
        case .outcome(let other):
            argumentCount = pushOutcome(of: other, on: T, withStatus: true)
        }

        scheduler.current = coroutine
        coroutine.blockedOnCoroutine = false
        var resultCount: Int32 = 0
        let status = reel_resume(T, L, argumentCount, &resultCount)
        scheduler.current = nil

        switch status {
        case LUA_YIELD:
            let isHostWait = resultCount == 1 && reel_is_wait_marker(T, -1) != 0
            reel_pop(T, resultCount)
            if isHostWait {
                if coroutine.pending == nil && !coroutine.blockedOnCoroutine {
                    scheduler.ready.append((coroutine, .thrown(LuaArgumentError("reel's wait marker was yielded without a wait"), position: nil)))
                }
            } else {
                // A plain coroutine.yield() at top level: let the others run, then continue.
                scheduler.ready.append((coroutine, .start(argumentCount: 0)))
            }
        case LUA_OK:
            lua_createtable(T, resultCount, 0)
            reel_insert(T, -(resultCount + 1))
            var i = resultCount
            while i >= 1 {
                lua_rawseti(T, -(i + 1), lua_Integer(i))
                i -= 1
            }
            let ref = luaL_ref(T, reel_registryindex())
            finish(coroutine, .finished(ref: ref, count: resultCount))
        default:
            lua_xmove(T, L, 1)
            let message: String
            if reel_tostring_protected(L, -1) == LUA_OK {
                message = string(at: -1, on: L) ?? "(error)"
            } else {
                message = "(error object is not a string)"
            }
            reel_pop(L, 1)
            reel_push_traceback(L, T, message, 0)
            let traceback = string(at: -1, on: L) ?? message
            reel_pop(L, 1)
            let ref = luaL_ref(L, reel_registryindex())
            finish(coroutine, .failed(ref: ref, message: message, traceback: traceback))
        }
    }

    private func finish(_ coroutine: Coroutine, _ outcome: Coroutine.Outcome) {
        coroutine.outcome = outcome
        scheduler.live[ObjectIdentifier(coroutine)] = nil
        luaL_unref(L, reel_registryindex(), coroutine.threadRef)
        coroutine.threadRef = LUA_NOREF
        if !coroutine.waiters.isEmpty { coroutine.observed = true }
        for waiter in coroutine.waiters { scheduler.ready.append((waiter, .outcome(of: coroutine))) }
        coroutine.waiters = []
        if case .failed = outcome, !coroutine.isMain, !coroutine.observed {
            scheduler.unobserved.append(coroutine)
        }
    }

    /// Pushes a finished coroutine's results (after `true`, if `withStatus`) or, for a
    /// failed one, `false` and its error value. Returns how many values were pushed.
    @discardableResult
    func pushOutcome(of coroutine: Coroutine, on T: OpaquePointer, withStatus: Bool) -> Int32 {
        coroutine.observed = true
        scheduler.unobserved.removeAll { $0 === coroutine }
        switch coroutine.outcome {
        case .finished(let ref, let count):
            lua_checkstack(T, count + 2)
            if withStatus { lua_pushboolean(T, 1) }
            lua_rawgeti(T, reel_registryindex(), lua_Integer(ref))
            for i in 1...max(count, 1) where count > 0 { lua_rawgeti(T, -Int32(i), lua_Integer(i)) }
            lua_rotate(T, -(count + 1), count)
            reel_pop(T, 1)
            return count + (withStatus ? 1 : 0)
        case .failed(let ref, _, _):
            lua_checkstack(T, 2)
            if withStatus { lua_pushboolean(T, 0) }
            lua_rawgeti(T, reel_registryindex(), lua_Integer(ref))
            return withStatus ? 2 : 1
        case nil:
            return 0
        }
    }

    private func outcomeValues(ref: Int32, count: Int32) throws -> [LuaValue] {
        lua_rawgeti(L, reel_registryindex(), lua_Integer(ref))
        defer { reel_pop(L, 1) }
        var values: [LuaValue] = []
        for i in 0..<Int(count) {
            lua_rawgeti(L, -1, lua_Integer(i + 1))
            defer { reel_pop(L, 1) }
            values.append((try? value(at: -1, on: L)) ?? .nil)
        }
        return values
    }

    private func scriptError(of coroutine: Coroutine) -> LuaScriptError {
        guard case .failed(let ref, let message, let traceback) = coroutine.outcome else {
            return LuaScriptError(message: "reel: no error")
        }
        lua_rawgeti(L, reel_registryindex(), lua_Integer(ref))
        let value = (try? value(at: -1, on: L)) ?? .nil
        reel_pop(L, 1)
        return LuaScriptError(message: message, traceback: traceback, value: value, stopReason: stopReason)
    }

    /// Ends a run that failed or was stopped: cancels every host wait and forgets every
    /// coroutine still parked, so the next chunk in this state (the REPL's next entry) starts
    /// with an empty scheduler instead of waiting on the last one's leftovers.
    private func cancelAll() {
        for coroutine in scheduler.live.values {
            coroutine.pending?.cancel()
            coroutine.pending = nil
            if coroutine.threadRef != LUA_NOREF {
                luaL_unref(L, reel_registryindex(), coroutine.threadRef)
                coroutine.threadRef = LUA_NOREF
            }
        }
        scheduler.live = [:]
        scheduler.ready = []
        scheduler.pendingCount = 0
    }

    /// Called by the dispatcher when a host function returns `.wait`.
    func beginWait(on L: OpaquePointer, name: String, _ operation: @escaping @Sendable () async throws -> [LuaValue]) throws -> Int32 {
        guard let coroutine = scheduler.current, let completions = scheduler.completions, lua_isyieldable(L) != 0 else {
            throw LuaErrorTable("\(name) cannot wait here: call it from ordinary script code, not from a metamethod, an iterator or a sort comparator")
        }
        let id = ObjectIdentifier(coroutine)
        let position = LuaState.position(in: L)
        scheduler.pendingCount += 1
        coroutine.pending = Task {
            let result: Result<[LuaValue], any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            completions.yield(Completion(coroutineID: id, result: result, position: position))
        }
        return REEL_HOST_YIELD
    }
}

