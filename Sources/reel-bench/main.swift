import ArgumentParser
import Foundation
import Support
import VideoAPI

// reel-bench: reel's performance figures, each beside its peer measured in the same run.
//   swift build -c release && swift run -c release reel-bench [--quick] [--json FILE]
// Needs python3 with aiohttp (pip install aiohttp) and lua5.4 for the peers.

struct BenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reel-bench",
        abstract: "reel's performance figures, each beside its peer measured in the same run.",
        discussion: "Build first with `swift build -c release`. Needs python3 with aiohttp (the peer) and lua5.4.")

    /// The benchmark's sections, each measured against its own peer.
    enum Section: String, CaseIterable, Sendable {
        case bridge, throughput, gallery, inflight, startup, polling, check, binary
    }

    @Option(help: ArgumentHelp("The reel binary to measure.", valueName: "path"))
    var reel = ".build/release/reel"

    @Option(help: ArgumentHelp("The Python asyncio peer.", valueName: "path"))
    var peer = "../shared/bench/peer_asyncio.py"

    @Option(help: ArgumentHelp("Where the jobs write their videos and journals (default: the temporary folder). Both programs pay the file system's cost of creating each file, which on a busy disk can be most of their kernel time and change from hour to hour (/dev/shm leaves the programs' own CPU).", valueName: "folder"))
    var workDir: String?

    @Option(help: ArgumentHelp("Where to write the figures as JSON (default: docs/bench-results.json, for a full run only; --quick and --only write only where this says).", valueName: "file"))
    var json: String?

    @Flag(help: "A one-minute version: fewer tasks, shorter generations.")
    var quick = false

    @Option(help: ArgumentHelp("Only these sections, comma-separated: \(Section.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "list"),
            transform: BenchOptions.sections)
    var only: Set<Section> = []

    static func sections(_ list: String) throws -> Set<Section> {
        Set(try list.split(separator: ",").map { name in
            guard let section = Section(rawValue: String(name)) else {
                throw ValidationError("unknown section '\(name)' (known: \(Section.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return section
        })
    }
}

/// Unbuffered, so progress shows while a long section runs.
func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

var figures: [(String, JSONValue)] = []
var rows: [(section: String, figure: String, value: String, target: String)] = []
@MainActor func report(_ section: String, _ figure: String, _ value: String, target: String = "", json key: String, _ number: Double) {
    rows.append((section, figure, value, target))
    figures.append((key, .double((number * 1000).rounded() / 1000)))
    FileHandle.standardOutput.write(Data("  \(figure): \(value)\(target.isEmpty ? "" : "   [\(target)]")\n".utf8))
}
func wanted(_ section: BenchOptions.Section) -> Bool { options.only.isEmpty || options.only.contains(section) }
func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

let options = BenchOptions.parseOrExit()
guard FileManager.default.isExecutableFile(atPath: options.reel) else {
    FileHandle.standardError.write(Data("reel-bench: no reel binary at \(options.reel); run `swift build -c release` first\n".utf8))
    exit(2)
}
let work = ((options.workDir ?? NSTemporaryDirectory()) as NSString).appendingPathComponent("reel-bench-\(getpid())")
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }
let mapScript = work + "/map.lua"
try """
    local n, c = tonumber(args.n), tonumber(args.c)
    local items = {}
    for i = 1, n do items[i] = i end
    map(items, function(i) return text_to_video{ prompt = "bench job " .. i, duration = 4, seed = i } end, { concurrency = c })
    """.write(toFile: mapScript, atomically: true, encoding: .utf8)

func runReel(_ arguments: [String], baseURL: String) throws -> Measured {
    let result = try Subprocess.run(options.reel, arguments, environment: ["REEL_BASE_URL": baseURL, "REEL_API_KEY": "sk-bench"])
    guard result.status == 0 else { throw BenchError("reel \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr.suffix(800))") }
    return result
}

/// `reel run` of the map script: `n` tasks, `c` at once, in a fresh folder (nothing reused)
/// unless `reusing`. By default the run a user gets (its estimate, progress lines and
/// gallery); `plain` leaves those out, for the sections that measure something else.
func runMap(n: Int, c: Int, folder: String, baseURL: String, plain: Bool = false, reusing: Bool = false) throws -> Measured {
    let dir = reusing ? work + "/" + folder : try freshDirectory(folder)
    return try runReel(["run", mapScript, "n=\(n)", "c=\(c)", "--concurrency", "\(c)"] + (plain ? ["--quiet", "--no-gallery"] : [])
                       + ["--out", dir + "/out", "--state", dir + "/.reel"], baseURL: baseURL)
}

/// A fresh output and journal folder per run, so every run generates (nothing is reused).
func freshDirectory(_ name: String) throws -> String {
    let dir = work + "/" + name
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

let cpu = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
    .first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":").last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
let machine = "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, \(cpu)"
say("reel-bench on \(machine)\(options.quick ? " (quick)" : "")")
figures.append(("machine", .string(machine)))
/// The file system the jobs write on (`stat -f`): its cost of creating files is in both
/// programs' figures.
let workFileSystem = (try? Subprocess.run("stat", ["-f", "-c", "%T", work]))
    .map { $0.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    .map { $0 == "ext2/ext3" ? "ext2/3/4" : $0 } ?? "unknown"  // stat names ext4 by its shared magic number
say("jobs write in \(work) (\(workFileSystem))")
figures.append(("work_filesystem", .string(workFileSystem)))

/// `pairs` runs of each, alternating, so that a change in the machine's load (these machines
/// are shared) falls on both rather than on whichever ran second. Warm-up runs first.
func alternating(_ pairs: Int, warmUp: Bool = true, _ first: () throws -> Measured, _ second: () throws -> Measured) rethrows -> ([Measured], [Measured]) {
    if warmUp { _ = (try first(), try second()) }
    var a: [Measured] = [], b: [Measured] = []
    for _ in 0..<pairs {
        a.append(try first())
        b.append(try second())
    }
    return (a, b)
}

/// The run with the median of `key`.
func median(_ runs: [Measured], by key: (Measured) -> Double) -> Measured {
    runs.sorted { key($0) < key($1) }[runs.count / 2]
}

// MARK: 2. The same job as the peer: CPU and memory
let jobPairs = options.quick ? 3 : 5
if wanted(.throughput) {
    say("\njobs: map with concurrency 32, zero generation latency, small results, every video saved (simulator in its own process); reel as a user runs it (estimate, progress lines, gallery); \(jobPairs) runs of each, alternating, medians")
    var medians: [(tasks: Int, reel: Double, peer: Double)] = []
    for n in options.quick ? [200] : [400, 1_000] {
        let simulator = try SimulatorProcess(reel: options.reel, arguments: ["--sample-videos", "--latency", "0", "--result-bytes", "4096"])
        defer { simulator.stop() }
        let (reelRuns, peerRuns) = try alternating(jobPairs, warmUp: false) {
            try runMap(n: n, c: 32, folder: "jobs", baseURL: simulator.baseURL)
        } _: {
            let peerOut = try freshDirectory("jobs-peer")
            let peer = try Subprocess.run("python3", [options.peer, "--base-url", simulator.baseURL, "--jobs", "\(n)", "--concurrency", "32", "--out", peerOut])
            guard peer.status == 0 else { throw BenchError("the peer failed: \(peer.stderr.suffix(800)) (pip install aiohttp?)") }
            return peer
        }
        let reel = median(reelRuns, by: \.cpuSeconds), peer = median(peerRuns, by: \.cpuSeconds)
        let reelPeak = median(reelRuns) { Double($0.maxRSSKiB) }.maxRSSKiB, peerPeak = median(peerRuns) { Double($0.maxRSSKiB) }.maxRSSKiB
        let cpuRatio = reel.cpuSeconds / peer.cpuSeconds, memoryRatio = Double(reelPeak) / Double(peerPeak)
        // Each pair's own ratio: how far one run's noise can move the figure.
        let pairRatios = zip(reelRuns, peerRuns).map { $0.cpuSeconds / $1.cpuSeconds }.sorted()
        report("jobs", "\(n) tasks: reel", "\(f(reel.cpuSeconds, 2)) s CPU, \(f(reel.wallSeconds, 2)) s wall, peak \(reelPeak / 1024) MiB",
               json: "jobs_\(n)_reel_cpu_s", reel.cpuSeconds)
        report("jobs", "\(n) tasks: Python asyncio peer", "\(f(peer.cpuSeconds, 2)) s CPU, \(f(peer.wallSeconds, 2)) s wall, peak \(peerPeak / 1024) MiB",
               json: "jobs_\(n)_peer_cpu_s", peer.cpuSeconds)
        report("jobs", "\(n) tasks: reel ÷ peer, CPU", "\(f(cpuRatio, 2))× (single pairs \(f(pairRatios.first!, 2))–\(f(pairRatios.last!, 2))×)",
               target: "≤ 0.5×", json: "jobs_\(n)_cpu_ratio", cpuRatio)
        report("jobs", "\(n) tasks: reel ÷ peer, peak memory", "\(f(memoryRatio, 2))×", target: "≤ 1×", json: "jobs_\(n)_memory_ratio", memoryRatio)
        figures.append(("jobs_\(n)_cpu_ratio_pairs_min", .double((pairRatios.first! * 1000).rounded() / 1000)))
        figures.append(("jobs_\(n)_cpu_ratio_pairs_max", .double((pairRatios.last! * 1000).rounded() / 1000)))
        figures.append(("jobs_\(n)_reel_peak_kib", .double(Double(reelPeak))))
        figures.append(("jobs_\(n)_peer_peak_kib", .double(Double(peerPeak))))
        medians.append((n, reel.cpuSeconds, peer.cpuSeconds))
    }
    // What each generation past the first costs, start-up aside: the difference between the
    // two job sizes. The peer pays much more to start (Python and aiohttp), which is why the
    // ratio above grows with the job.
    if let small = medians.first, let large = medians.last, large.tasks > small.tasks {
        let count = Double(large.tasks - small.tasks)
        let reelEach = (large.reel - small.reel) / count * 1000, peerEach = (large.peer - small.peer) / count * 1000
        report("jobs", "CPU per generation (\(large.tasks) − \(small.tasks) tasks): reel / peer", "\(f(reelEach, 2)) / \(f(peerEach, 2)) ms, \(f(reelEach / peerEach, 2))×",
               json: "jobs_cpu_ms_per_generation_ratio", reelEach / peerEach)
        figures.append(("jobs_reel_cpu_ms_per_generation", .double((reelEach * 1000).rounded() / 1000)))
        figures.append(("jobs_peer_cpu_ms_per_generation", .double((peerEach * 1000).rounded() / 1000)))
    }
}

// MARK: 2b. A large sweep run again, and its gallery
let sweep = options.quick ? 1_000 : 3_000
if wanted(.gallery) {
    say("\ngallery: a \(sweep)-task sweep, then the same run again (every take reused, its page written) three times, and reel gallery of it; medians")
    let simulator = try SimulatorProcess(reel: options.reel, arguments: ["--sample-videos", "--latency", "0", "--result-bytes", "4096"])
    defer { simulator.stop() }
    let fresh = try runMap(n: sweep, c: 32, folder: "sweep", baseURL: simulator.baseURL)
    report("gallery", "\(sweep) tasks, new (with its page)", "\(f(fresh.cpuSeconds, 2)) s CPU, \(f(fresh.wallSeconds, 2)) s wall", json: "sweep_\(sweep)_new_cpu_s", fresh.cpuSeconds)
    let again = try (0..<3).map { _ in try runMap(n: sweep, c: 32, folder: "sweep", baseURL: simulator.baseURL, reusing: true) }
    guard again.allSatisfy({ $0.stdout.contains("0 videos generated") }) else { throw BenchError("the re-run generated: \(again.map(\.stdout))") }
    let rerun = median(again, by: \.wallSeconds)
    report("gallery", "\(sweep) tasks, all reused (with its page)", "\(f(rerun.wallSeconds, 2)) s wall, \(f(rerun.cpuSeconds, 2)) s CPU",
           target: "< 2 s", json: "sweep_\(sweep)_reused_wall_s", rerun.wallSeconds)
    let dir = work + "/sweep"
    let pages = try (0..<3).map { _ in
        try runReel(["gallery", "--state", dir + "/.reel", "-o", dir + "/out/gallery.html"], baseURL: simulator.baseURL)
    }
    let page = median(pages, by: \.wallSeconds)
    report("gallery", "reel gallery of \(sweep) takes", "\(f(page.wallSeconds, 2)) s wall, \(f(page.cpuSeconds, 2)) s CPU", json: "gallery_\(sweep)_wall_s", page.wallSeconds)
}

// MARK: 3. Memory per task in flight
let inFlight = options.quick ? 1_000 : 10_000
let latency = options.quick ? 5 : 30
if wanted(.inflight) {
    say("\nin flight: \(inFlight) tasks at once, \(latency) s simulated generation")
    let simulator = try SimulatorProcess(reel: options.reel, arguments: ["--sample-videos", "--latency", "\(latency)", "--result-bytes", "4096"])
    defer { simulator.stop() }
    // Plain runs: the figure is the memory a task holds while it waits, not the end's page.
    let baseline = try runMap(n: 1, c: 1, folder: "inflight-1", baseURL: simulator.baseURL, plain: true)
    let loaded = try runMap(n: inFlight, c: inFlight, folder: "inflight-\(inFlight)", baseURL: simulator.baseURL, plain: true)
    let perTask = Double(loaded.maxRSSKiB - baseline.maxRSSKiB) / Double(inFlight)
    report("in flight", "peak RSS with 1 task / with \(inFlight)", "\(baseline.maxRSSKiB / 1024) MiB / \(loaded.maxRSSKiB / 1024) MiB", json: "in_flight_peak_rss_kib", Double(loaded.maxRSSKiB))
    report("in flight", "memory per task in flight", "\(f(perTask)) KiB", target: "≤ 20 KiB", json: "in_flight_kib_per_task", perTask)
}

// MARK: 4. Start-up
if wanted(.startup) {
    say("\nstart-up: an empty script, 30 runs of each, alternating, medians")
    let empty = work + "/empty.lua"
    try "".write(toFile: empty, atomically: true, encoding: .utf8)
    let dir = try freshDirectory("startup")
    let (reelRuns, luaRuns) = try alternating(30) {
        try Subprocess.run(options.reel, ["run", empty, "--quiet", "--out", dir + "/out", "--state", dir + "/.reel"])
    } _: {
        try Subprocess.run("lua5.4", [empty])
    }
    let reelStart = median(reelRuns, by: \.wallSeconds).wallSeconds, luaStart = median(luaRuns, by: \.wallSeconds).wallSeconds
    report("start-up", "reel run empty.lua", "\(f(reelStart * 1000)) ms", json: "startup_reel_ms", reelStart * 1000)
    report("start-up", "lua5.4 empty.lua", "\(f(luaStart * 1000)) ms", json: "startup_lua_ms", luaStart * 1000)
    report("start-up", "reel ÷ lua5.4", "\(f(reelStart / luaStart))×", target: "≤ 10×", json: "startup_ratio", reelStart / luaStart)
}

// MARK: 5. Polling cost
let generation = options.quick ? 20.0 : 60.0
if wanted(.polling) {
    say("\npolling: 4 tasks of \(Int(generation)) s each, the default poll schedule")
    let simulator = try SimulatorProcess(reel: options.reel, arguments: ["--sample-videos", "--latency", "\(generation)", "--result-bytes", "4096"])
    defer { simulator.stop() }
    _ = try runMap(n: 4, c: 4, folder: "polling", baseURL: simulator.baseURL, plain: true)
    let log = try JSONValue.parse(simulator.get("/__simulator/polls"))
    guard case .array(let tasks) = log, !tasks.isEmpty else { throw BenchError("no poll log") }
    var requests = 0.0, perFive = 0.0, delays = 0.0
    for task in tasks {
        guard case .array(let polls)? = task["polls"], case .double(let detected)? = task["detected_at"] else { continue }
        let offsets = polls.compactMap { if case .double(let d) = $0 { d } else { nil } }
        requests += Double(offsets.count + 2)  // + the submission and the download
        let late = offsets.filter { $0 > 10 }.count
        perFive += Double(late) / max((detected - 10) / 5, 1)
        delays += (detected - generation) / generation
    }
    let count = Double(tasks.count)
    report("polling", "requests per task (submit + polls + download)", f(requests / count), json: "polling_requests_per_task", requests / count)
    report("polling", "polls per 5 s after the first 10 s", f(perFive / count, 2), target: "≤ 1", json: "polling_polls_per_5s", perFive / count)
    report("polling", "detection delay", "\(f(delays / count * 100))% of the generation time", target: "≤ 10%", json: "polling_detection_delay_pct", delays / count * 100)
}

// MARK: 6. reel check of a 1,000-call script
if wanted(.check) {
    say("\ncheck: reel check of a script with 1,000 generation calls, median of 5")
    let script = work + "/thousand.lua"
    try (1...1_000).map { "text_to_video{ prompt = \"check take \($0)\", duration = 4, seed = \($0) }" }.joined(separator: "\n")
        .write(toFile: script, atomically: true, encoding: .utf8)
    let times = try (0..<5).map { _ in
        let result = try Subprocess.run(options.reel, ["check", script])
        guard result.status == 0 else { throw BenchError("reel check failed: \(result.stderr.suffix(400))") }
        return result.wallSeconds
    }.sorted()
    report("check", "reel check, 1,000 calls", "\(f(times[2] * 1000)) ms", target: "< 500 ms", json: "check_1000_ms", times[2] * 1000)
}

// MARK: 7. The installed binary
if wanted(.binary) {
    say("\nbinary: the release build, and stripped as scripts/install.sh installs it")
    let stripped = work + "/reel-stripped"
    try? FileManager.default.removeItem(atPath: stripped)
    try FileManager.default.copyItem(atPath: options.reel, toPath: stripped)
    let strip = try Subprocess.run("strip", [stripped])
    guard strip.status == 0 else { throw BenchError("strip failed: \(strip.stderr)") }
    func megabytes(_ path: String) -> Double { Double(((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0) / 1_048_576 }
    report("binary", "release build", "\(f(megabytes(options.reel))) MiB", json: "binary_release_mib", megabytes(options.reel))
    report("binary", "stripped", "\(f(megabytes(stripped))) MiB", json: "binary_stripped_mib", megabytes(stripped))
}

// MARK: 8. The bridge — last: it runs in this process and grows it, and a child's peak RSS
// starts at its parent's (Linux keeps the high-water mark across exec), so the sections that
// measure child processes' memory come first.
if wanted(.bridge) {
    say("\nbridge (in process, best of 5)")
    let bridge = try await BridgeBench.run(calls: options.quick ? 200_000 : 2_000_000)
    report("bridge", "Lua→Swift call", "\(f(bridge.swiftCallNanoseconds)) ns", json: "bridge_swift_call_ns", bridge.swiftCallNanoseconds)
    report("bridge", "plain Lua C function call", "\(f(bridge.plainCallNanoseconds)) ns", json: "bridge_plain_c_call_ns", bridge.plainCallNanoseconds)
    report("bridge", "empty Lua function call (for scale)", "\(f(bridge.luaCallNanoseconds)) ns", json: "bridge_lua_call_ns", bridge.luaCallNanoseconds)
    let bridgeRatio = bridge.swiftCallNanoseconds / bridge.plainCallNanoseconds
    report("bridge", "Swift call ÷ C call", "\(f(bridgeRatio, 2))×", target: "≤ 2×", json: "bridge_ratio", bridgeRatio)
    report("bridge", "requests built + validated from Lua tables", "\(Int(bridge.requestsPerSecondFromLua))/s", json: "requests_from_lua_per_s", bridge.requestsPerSecondFromLua)
    report("bridge", "requests parsed + encoded (Swift alone)", "\(Int(bridge.parsesPerSecond))/s", json: "parses_per_s", bridge.parsesPerSecond)
}

// The README's table comes from full runs: a quick or partial run does not replace them.
if let path = options.json ?? (options.quick || !options.only.isEmpty ? nil : "docs/bench-results.json") {
    try JSONValue.object(figures).pretty().write(toFile: path, atomically: true, encoding: .utf8)
    say("\nfigures written to \(path)")
} else {
    say("\nfigures not written: a quick or partial run keeps docs/bench-results.json as it is (--json FILE writes them)")
}
say("\n| section | figure | value | target |\n|---|---|---|---|")
for row in rows { say("| \(row.section) | \(row.figure) | \(row.value) | \(row.target) |") }
