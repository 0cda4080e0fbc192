import Foundation
import Support
import VideoAPI

/// The simulator's tasks and the counters tests check (submissions per request, tasks open
/// at once). An actor: many connections touch it at once.
public actor SimulatorState {
    struct SimulatedTask {
        let id: String
        let request: GenerationRequest
        let created: Date
        let fails: Bool
        let resultMissing: Bool
        var fetched = false
        /// Seconds after creation at which the task was polled, and when a poll first saw it done.
        var pollOffsets: [Double] = []
        var detectedAt: Double?
    }

    public struct Stats: Sendable, Equatable {
        public var submissions = 0
        /// Submissions whose canonical body had been submitted before.
        public var duplicateSubmissions = 0
        public var polls = 0
        public var downloads = 0
        /// Tasks submitted whose video has not been fetched yet, now and at most.
        public var openTasks = 0
        public var peakOpenTasks = 0
        public var faultsInjected = 0
        public var rejected = 0
        /// Submissions whose connection was dropped before they were processed.
        public var droppedSubmissions = 0
        /// Submissions answered with an existing task because their Idempotency-Key was known.
        public var replayedSubmissions = 0
        /// Downloads from the other origin a result URL redirects to, and how many of them
        /// carried an Authorization header (the key must never leave the gateway's origin).
        public var cdnDownloads = 0
        public var cdnDownloadsWithAuthorization = 0
    }

    let configuration: SimulatorConfiguration
    /// The faults in force; a test may change them between runs.
    public private(set) var faults: SimulatorConfiguration.Faults
    private var tasks: [String: SimulatedTask] = [:]
    private var seenBodies: [String: Int] = [:]
    private var tasksByIdempotencyKey: [String: String] = [:]
    private var nextID = 1
    /// Fault dice: seeded, so the same seed injects the same faults.
    private var random: SeededRandom
    /// Task ids differ between simulator runs, so two runs never write the same file name.
    private let idSalt = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private(set) public var stats = Stats()
    /// Each drawn video, by task id (drawn once, on its first download).
    private var footage: [String: Data] = [:]

    func footage(of id: String) -> Data? { footage[id] }
    func keepFootage(_ video: Data, of id: String) { footage[id] = video }
    /// Every accepted request body, in arrival order (for tests that compare bodies).
    private(set) public var receivedBodies: [JSONValue] = []

    init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        faults = configuration.faults
        random = SeededRandom(seed: configuration.seed)
    }

    /// True with probability `p`, from the seeded generator.
    func roll(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        let hit = random.nextUnit() < p
        if hit { stats.faultsInjected += 1 }
        return hit
    }

    func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }

    /// The task an earlier submission with this key created, if the simulator replays keys.
    func replay(idempotencyKey: String?) -> String? {
        guard configuration.honorsIdempotencyKeys, let key = idempotencyKey, let id = tasksByIdempotencyKey[key] else { return nil }
        stats.replayedSubmissions += 1
        return id
    }

    func submit(_ request: GenerationRequest, body: JSONValue, idempotencyKey: String?) -> String {
        if let replayed = replay(idempotencyKey: idempotencyKey) { return replayed }
        var id = faults.taskIDPrefix + "sim-\(idSalt)-\(nextID)"
        if faults.longTaskIDs { id += "-" + String(repeating: "0123456789", count: 29) }
        id += faults.taskIDSuffix
        nextID += 1
        let canonical = body.encoded(sortKeys: true)
        seenBodies[canonical, default: 0] += 1
        if seenBodies[canonical]! > 1 { stats.duplicateSubmissions += 1 }
        stats.submissions += 1
        stats.openTasks += 1
        stats.peakOpenTasks = max(stats.peakOpenTasks, stats.openTasks)
        receivedBodies.append(body)
        let fails = roll(faults.taskFailure)
        let missing = roll(faults.missingResult)
        tasks[id] = SimulatedTask(id: id, request: request, created: Date(), fails: fails, resultMissing: missing)
        if configuration.honorsIdempotencyKeys, let idempotencyKey { tasksByIdempotencyKey[idempotencyKey] = id }
        return id
    }

    public func setFaults(_ faults: SimulatorConfiguration.Faults) { self.faults = faults }

    func reject() { stats.rejected += 1 }

    func cdnDownload(withAuthorization: Bool) {
        stats.cdnDownloads += 1
        if withAuthorization { stats.cdnDownloadsWithAuthorization += 1 }
    }

    func droppedSubmission() { stats.droppedSubmissions += 1 }

    /// The task's state now: status, progress 0…100.
    func state(of id: String) -> (task: SimulatedTask, status: TaskStatus, progress: Int)? {
        stats.polls += 1
        guard let reading = peek(id) else { return nil }
        let offset = Date().timeIntervalSince(reading.task.created)
        tasks[id]!.pollOffsets.append(offset)
        if reading.status.isFinished && tasks[id]!.detectedAt == nil { tasks[id]!.detectedAt = offset }
        return reading
    }

    /// Per task: when it was polled and when a poll first found it finished (for measuring
    /// polling cost).
    public func pollLog() -> [(id: String, pollOffsets: [Double], detectedAt: Double?)] {
        tasks.values.sorted { $0.created < $1.created }.map { ($0.id, $0.pollOffsets, $0.detectedAt) }
    }

    func peek(_ id: String) -> (task: SimulatedTask, status: TaskStatus, progress: Int)? {
        if tasks[id] == nil, configuration.adoptsEarlierTasks, id.hasPrefix("sim-"),
            let request = try? RequestParser(caller: "simulator", expectedMode: nil, source: .wire).parse([("prompt", "an earlier run's task")]).request {
            tasks[id] = SimulatedTask(id: id, request: request, created: .distantPast, fails: false, resultMissing: false)
            stats.openTasks += 1
        }
        guard let task = tasks[id] else { return nil }
        let total = max(configuration.generationSeconds, 0.000_001)
        let fraction = Date().timeIntervalSince(task.created) / total
        if fraction >= 1 {
            return (task, task.fails ? .failed : .succeeded, 100)
        }
        return (task, fraction < 0.2 ? .queued : .running, Int(fraction * 100))
    }

    /// Marks the task's video fetched (closing it for the open-task count); nil if unknown.
    func fetch(_ id: String) -> SimulatedTask? {
        guard let task = tasks[id] else { return nil }
        stats.downloads += 1
        if !task.fetched {
            tasks[id]!.fetched = true
            stats.openTasks -= 1
        }
        return task
    }

    /// A task that failed is closed too: nobody will fetch it.
    func close(_ id: String) {
        guard let task = tasks[id], !task.fetched else { return }
        tasks[id]!.fetched = true
        stats.openTasks -= 1
    }
}

/// SplitMix64: small, fast, and the same sequence for the same seed.
public struct SeededRandom: Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
