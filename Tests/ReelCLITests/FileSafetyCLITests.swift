import Foundation
import Testing

/// What reel does to the user's files: a final rename never replaces anything but a regular
/// file, a temporary file is swept only when its writer is provably gone, and file names stay
/// within the system's limits whatever the task id.
@Suite struct FileSafetyCLITests {
    @Test func saveRefusesAPipeAndAFolderAndLeavesThemAsTheyWere() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local v = text_to_video "a pipe is not a file"
            for _, target in ipairs{ "pipe", "folder" } do
              local ok, err = pcall(function() v:save(target) end)
              log(target .. ": " .. (ok and "saved" or tostring(err)))
            end
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pipe = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(pipe, 0o644) == 0)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("folder"), withIntermediateDirectories: true)
        let result = try await CLI.run(["run", "s.lua", "--latency", "0.1", "--sample-videos"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("pipe: ") && result.stderr.contains("is not a regular file"), "\(result.stderr)")
        #expect(result.stderr.contains("folder: ") && result.stderr.contains("is a folder; give a file name"), "\(result.stderr)")
        var info = stat()
        #expect(lstat(pipe, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the pipe was replaced")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("folder").path).isEmpty)
    }

    /// A run starting in the same output folder sweeps abandoned temporary files; the
    /// media steps' temporaries, still being written by a live run, must survive it. ffmpeg
    /// is wrapped so each step holds its finished temporary file until the second run is done.
    @Test func aMediaStepBesideAStartingRunKeepsItsTemporaryFiles() async throws {
        let steps = 12
        let dir = try HostileConditionsTests.scratch("""
            local times = {}
            for i = 1, \(steps) do times[i] = (i - 1) * 0.05 end
            local frames = map(times, function(t) return frame("clip.mp4", t) end, { concurrency = \(steps) })
            log("frames: " .. #frames)
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "text_to_video 'second run'\n".write(to: dir.appendingPathComponent("b.lua"), atomically: true, encoding: .utf8)
        let realFFmpeg = try #require(Self.onPath("ffmpeg"))
        _ = try await Shell.run(realFFmpeg, ["-v", "error", "-f", "lavfi", "-i", "testsrc=duration=1:size=160x90:rate=24", "-pix_fmt", "yuv420p",
                                             dir.appendingPathComponent("clip.mp4").path])
        let bin = dir.appendingPathComponent("bin"), hold = dir.appendingPathComponent("hold")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: hold, withIntermediateDirectories: true)
        let wrapper = bin.appendingPathComponent("ffmpeg").path
        try """
            #!/bin/sh
            "\(realFFmpeg)" "$@"; status=$?
            touch "\(hold.path)/done-$$"
            while [ ! -e "\(hold.path)/go" ]; do sleep 0.05; done
            exit $status
            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        #expect(chmod(wrapper, 0o755) == 0)
        let out = dir.appendingPathComponent("out")
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let first = try BackgroundReel(["run", "s.lua", "--latency", "0.1", "--concurrency", "\(steps)", "--out", out.path], in: dir, environment: ["PATH": path])
        defer { first.stop() }
        // Every step has written its temporary file and waits.
        while (try FileManager.default.contentsOfDirectory(atPath: hold.path)).count < steps {
            if await first.waitForExit(timeout: 0) != nil { throw CLIError(message: "the first run ended early: \(first.standardError)") }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let temporaries = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.contains(".partial-") }
        #expect(temporaries.count == steps, "\(temporaries)")
        // Named by their writer (pid and start time), as every reel temporary file is.
        #expect(temporaries.allSatisfy { $0.contains(".partial-\(first.pid)-") }, "\(temporaries)")
        // Beside them: one whose writer died (no such pid), one whose pid now belongs to
        // another process (a different start time), and a user's file that only looks alike.
        let dead = ".gone.mp4.partial-4194305-12345-0000abcd", recycled = ".old.mp4.partial-\(first.pid)-1-0000abcd"
        let lookalike = ".partial-12345678-notes.txt"
        for name in [dead, recycled, lookalike] { FileManager.default.createFile(atPath: out.appendingPathComponent(name).path, contents: Data("x".utf8)) }

        let second = try await CLI.run(["run", "b.lua", "--latency", "0.1", "--sample-videos", "--out", out.path], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.contains(".partial-") }
        #expect(Set(left) == Set(temporaries + [lookalike]), "before: \(temporaries), after: \(left)")

        FileManager.default.createFile(atPath: hold.appendingPathComponent("go").path, contents: nil)
        let status = await first.waitForExit(timeout: 120)
        #expect(status == 0, "\(first.standardError)")
        #expect(first.standardError.contains("frames: \(steps)"), "\(first.standardError)")
    }

    /// A 300-byte task id still gives a file under the default `{id}` name and under a
    /// template (with a collision's `-ID`); a name of its own ending in `.mp4` is not doubled.
    @Test func longTaskIdsAndNamesEndingInMp4GiveFileNamesThatFit() async throws {
        let dir = try HostileConditionsTests.scratch("""
            for _, name in ipairs{ false, "{id}-{prompt}", "{prompt}", "{prompt}", "x.mp4" } do
              local v = text_to_video{ prompt = "a long id", name = name or nil }
              log("saved: " .. v.path)
            end
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "s.lua", "--latency", "0.1", "--sample-videos", "--long-task-ids"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let names = result.stderr.split(separator: "\n").filter { $0.hasPrefix("[log] saved: ") }.map { ($0 as NSString).lastPathComponent }
        #expect(names.count == 5, "\(result.stderr)")
        #expect(Set(names).count == 5, "\(names)")
        for name in names {
            #expect(name.utf8.count <= 255 && name.hasSuffix(".mp4") && !name.hasSuffix(".mp4.mp4"), "\(name)")
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/\(name)").path), "\(name)")
        }
        #expect(names.last == "x.mp4")
    }

    /// Ids starting with `.` would make hidden files: they are named visibly, still one file per id.
    @Test func taskIdsStartingWithADotGiveVisibleFiles() async throws {
        let dir = try HostileConditionsTests.scratch("""
            for i = 1, 2 do log("saved: " .. text_to_video("hidden? " .. i).path) end
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try await CLI.run(["run", "s.lua", "--latency", "0.1", "--sample-videos", "--task-id-prefix", "."], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let names = result.stderr.split(separator: "\n").filter { $0.hasPrefix("[log] saved: ") }.map { ($0 as NSString).lastPathComponent }
        #expect(names.count == 2 && Set(names).count == 2, "\(result.stderr)")
        #expect(names.allSatisfy { !$0.hasPrefix(".") }, "\(names)")
    }

    /// A missing --each file and an --out reel cannot make say what is wrong with them.
    @Test func aMissingEachFileAndAnOutFolderUnderProcSayWhatIsWrong() async throws {
        let dir = try HostileConditionsTests.scratch("log(args.row or 'none')\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let each = try await CLI.run(["run", "--dry-run", "--each", "nope.csv", "s.lua"], in: dir)
        #expect(each.status == 2)
        #expect(each.stderr.contains("nope.csv': the file does not exist") && !each.stderr.contains("UTF-8"), "\(each.stderr)")
        let folder = try await CLI.run(["run", "--dry-run", "--each", ".", "s.lua"], in: dir)
        #expect(folder.stderr.contains("it is a folder, not a CSV file"), "\(folder.stderr)")
        let out = try await CLI.run(["run", "s.lua", "--latency", "0.1", "--out", "/proc/nope"], in: dir)
        #expect(out.status != 0)
        #expect(out.stderr.contains("cannot create the output folder '/proc/nope' (--out): /proc is on proc, a system file system"), "\(out.stderr)")
    }

    /// The README's "Look and compare" step says which simulator flags fail two takes of
    /// the prompt sweep: they do.
    @Test func theReadmesFailedTakesExampleFailsTwoTakes() async throws {
        let readme = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
            .replacingOccurrences(of: "\n   ", with: " ")
        let sentence = try #require(readme.range(of: #"on the simulator with `([^`]+)`: two takes failed"#, options: .regularExpression), "the README's sentence moved")
        let flags = String(readme[sentence]).split(separator: "`")[1].split(separator: " ").map(String.init)
        let dir = try HostileConditionsTests.scratch("")
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = CLI.packageRoot.appendingPathComponent("scripts/prompt_sweep.lua").path
        let result = try await CLI.run(["run", script, "--latency", "0.05", "--sample-videos", "--state", dir.appendingPathComponent(".reel").path,
                                        "--out", dir.appendingPathComponent("out").path] + flags, in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let failedLogs = result.stderr.split(separator: "\n").filter { $0.hasPrefix("[log]") && $0.contains("failed:") }
        #expect(failedLogs.count == 2, "\(result.stderr)")
    }

    /// The simulator's first/last-frame take ends on its last image, so the wiring shows.
    @Test func aSimulatedFirstLastFrameTakeEndsOnItsLastImage() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local v = frames_to_video{ prompt = "red to blue", image = "first.png", last_image = "last.png", duration = 4 }
            log("saved: " .. v.path)
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, colour) in [("first.png", "0xd02020"), ("last.png", "0x2040d0")] {
            _ = try await Shell.run("/usr/bin/env", ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=\(colour):s=320x180:d=1", "-frames:v", "1",
                                                     dir.appendingPathComponent(name).path])
        }
        let result = try await CLI.run(["run", "s.lua", "--latency", "0.1"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stderr.split(separator: "\n").first { $0.hasPrefix("[log] saved: ") })
        let video = String(line.dropFirst("[log] saved: ".count))
        let start = try await MediaCLITests.colour(video, at: 0), end = try await MediaCLITests.colour(video, at: -1)
        #expect(MediaCLITests.close(start, [0xd0, 0x20, 0x20], within: 24), "first frame \(start)")
        #expect(MediaCLITests.close(end, [0x20, 0x40, 0xd0], within: 24), "last frame \(end)")
    }

    static func onPath(_ program: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
