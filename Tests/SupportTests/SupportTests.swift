import Crypto
import Foundation
@testable import Support
import Synchronization
import Testing

/// What every module stands on: strict JSON, the limiter, the loop's timers and time limits,
/// fresh stacks, redaction, terminal-safe text and hex.
@Suite struct SupportTests {
    @Test(arguments: ["01", "-01", "1.", ".5", "1.e3", "00"])
    func malformedNumbersAreRefused(text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(Data(text.utf8)) }
    }

    @Test(arguments: [("0", JSONValue.int(0)), ("-0", .int(0)), ("10", .int(10)), ("0.5", .double(0.5)), ("1e3", .double(1000)), ("-2.5E-1", .double(-0.25))])
    func wellFormedNumbersAreRead(text: String, value: JSONValue) throws {
        #expect(try JSONValue.parse(Data(text.utf8)) == value)
    }

    @Test func aCancelledWaiterLeavesTheLimiterAtOnce() async throws {
        let limiter = ConcurrencyLimiter(limit: 1)
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        try await Task.sleep(nanoseconds: 50_000_000)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        // The permit still passes on to the next waiter, skipping the cancelled one.
        let next = Task { try await limiter.acquire() }
        try await Task.sleep(nanoseconds: 50_000_000)
        limiter.release()
        try await next.value
        limiter.release()
    }

    // "At once" is bounded by the time limit, not the clock: the CLI tests' blocking waits can
    // hold this process's task threads for a minute and more.
    @Test(.timeLimit(.minutes(5)))
    func aLoopTimerWaitsItsTimeAndEndsAtOnceWhenCancelled() async throws {
        let started = ContinuousClock.now
        try await LoopTimer.sleep(seconds: 0.2)
        #expect(ContinuousClock.now - started >= .milliseconds(195))
        // Cancelled while waiting: a ten-minute sleep ends with CancellationError, long before.
        let sleeper = Task { try await LoopTimer.sleep(seconds: 600) }
        try await Task.sleep(nanoseconds: 50_000_000)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        // Cancelled before it starts: it does not wait at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await LoopTimer.sleep(seconds: 600)
        }
        await #expect(throws: CancellationError.self) { try await early.value }
    }

    @Test func workOnAFreshStackIsCancelledWithItsCaller() async throws {
        struct Failed: Error, Equatable {}
        // Values and typed errors come back as they were.
        #expect(await FreshStack.run { 42 } == 42)
        await #expect(throws: Failed()) { try await FreshStack.run { () async throws(Failed) -> Int in throw Failed() } }
        // Cancelling the caller cancels the work it waits for.
        let caller = Task { try await FreshStack.run { try await LoopTimer.sleep(seconds: 60) } }
        try await Task.sleep(nanoseconds: 50_000_000)
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }

    @Test(.timeLimit(.minutes(5)))
    func aTimeBoundCancelsWorkPastItsDeadlineAndKeepsWhatCameInTime() async throws {
        let quick = try await TimeBound.run(until: Date().addingTimeInterval(600)) { "in time" }
        #expect(quick == "in time")
        // Cut off at 0.2 s, not at the end of its ten minutes (the time limit would stop it).
        await #expect(throws: TimeBound.Exceeded.self) {
            try await TimeBound.run(until: Date().addingTimeInterval(0.2)) { try await LoopTimer.sleep(seconds: 600) }
        }
        // The work's own error is its own, not a timeout.
        await #expect(throws: CancellationError.self) {
            try await TimeBound.run(until: Date().addingTimeInterval(600)) { throw CancellationError() }
        }
    }

    // The test process's task threads can be held for a minute and more by the CLI tests'
    // blocking waits: these tests bound nothing by the clock but the time limit below.
    @Test(.timeLimit(.minutes(5)))
    func beatsKeepWorkAliveThroughAnIdleLimit() async throws {
        // Beats every 0.1 s from an event loop (as a download's chunks arrive), from before the
        // work starts, keep 3 s of work alive through a 2 s idle limit.
        let pulse = TimeBound.Pulse()
        let metronome = Metronome()
        metronome.start(pulse)
        defer { metronome.stop() }
        let steady = try await TimeBound.run(until: Date().addingTimeInterval(600), idle: 2, pulse: pulse) { _ in
            let start = metronome.beats
            while metronome.beats < start + 30 { try await LoopTimer.sleep(seconds: 0.05) }
            return "done"
        }
        #expect(steady == "done")
    }

    @Test(.timeLimit(.minutes(5)))
    func anIdleLimitCutsOffWorkThatStopsBeating() async throws {
        // Without the idle limit this would wait for its 600 s deadline, past the time limit.
        await #expect(throws: TimeBound.Exceeded.self) {
            try await TimeBound.run(until: Date().addingTimeInterval(600), idle: 2) { pulse in
                for _ in 0..<3 { try await LoopTimer.sleep(seconds: 0.1); pulse.beat() }
                try await LoopTimer.sleep(seconds: 600)
            }
        }
    }

    @Test func theKeyAndBearerTokensAreRedacted() {
        Redaction.register("sk-registered-key-123")
        let text = "denied: Authorization: Bearer sk-other-token.abc; key sk-registered-key-123 again"
        let redacted = Redaction.redact(text)
        #expect(!redacted.contains("sk-other-token") && !redacted.contains("sk-registered-key-123"))
        #expect(redacted.contains("Bearer [redacted]"))
        // The replies' quick test finds what redact replaces, in any case, anywhere.
        for found in [text, "bEaReR x", "xBEARER", "{\"k\":\"sk-registered-key-123\"}"] { #expect(Redaction.needsRedaction(found), "\(found)") }
        for clean in ["", "bear", "bearr", "a beard", "sk-registered-key-12"] { #expect(!Redaction.needsRedaction(clean), "\(clean)") }
    }

    /// Every control is shown as an escape; ordinary Unicode, and reel's own line breaks when
    /// asked, stay as they are.
    @Test func controlsAreShownNotObeyed() throws {
        #expect(TerminalText.escaped("\u{1B}]0;title\u{07}\u{1B}]52;c;aGk=\u{07}") == "\\e]0;title\\a\\e]52;c;aGk=\\a")
        #expect(TerminalText.escaped("a\nb\rc\td\u{0}\u{7F}\u{9B}2J\u{85}") == "a\\nb\\rc\\td\\x00\\x7F\\u{9B}2J\\u{85}")
        #expect(TerminalText.escaped("\u{202E}evil\u{202C} \u{2066}x\u{2069} \u{2028}") == "\\u{202E}evil\\u{202C} \\u{2066}x\\u{2069} \\u{2028}")
        let ordinary = "café 灯台の夜明け 🌅 — “quoted” \u{200F}עברית…"
        #expect(TerminalText.escaped(ordinary) == ordinary)
        #expect(TerminalText.escaped("line\n\tindented\u{07}", keepingLineBreaks: true) == "line\n\tindented\\a")
        // --json for people: the same values, no control left raw.
        let value = JSONValue.string("\u{1B}]0;t\u{07} \u{9B} \u{202E} é")
        #expect(value.pretty() == #""\u001b]0;t\u0007 \u009b \u202e é""#)
        #expect(try JSONValue.parse(Data(value.pretty().utf8)) == value)
        #expect(value.encoded() == #""\u001b]0;t\u0007 \#u{9B} \#u{202E} é""#, "the wire and the journal keep their bytes")
    }

    /// Hex of a digest, as the journal stores it (Foundation's formatter is not on this path).
    @Test func hexOfADigestIsLowerCaseAndPadded() {
        #expect(Hex.string([0x00, 0x0f, 0xa0, 0xff] as [UInt8]) == "000fa0ff")
        #expect(Hex.string([UInt8]()) == "")
        #expect(Hex.string(SHA256.hash(data: Data("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

/// Beats a pulse every 0.1 s from an event loop until stopped: progress that keeps coming
/// however busy the test process's task threads are.
private final class Metronome: Sendable {
    private let count = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    var beats: Int { count.load(ordering: .relaxed) }

    func start(_ pulse: TimeBound.Pulse) {
        _ = LoopTimer.after(seconds: 0.1) {
            guard !self.stopped.load(ordering: .relaxed) else { return }
            pulse.beat()
            self.count.add(1, ordering: .relaxed)
            self.start(pulse)
        }
    }

    func stop() { stopped.store(true, ordering: .relaxed) }
}
