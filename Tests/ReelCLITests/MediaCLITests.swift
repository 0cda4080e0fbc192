import Foundation
import Testing

/// Shots into films, through the real binary on the built-in simulator: last_frame chains,
/// concat, seams, trim — checked with ffprobe and by the pixels of the seam sheet.
@Suite struct MediaCLITests {
    static func probe(_ path: String) async throws -> (duration: Double, streams: [String], width: Int?, height: Int?) {
        let result = try await Shell.run("/usr/bin/env", ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,width,height", "-of", "json", path])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any])
        let streams = object["streams"] as? [[String: Any]] ?? []
        let video = streams.first { $0["codec_type"] as? String == "video" }
        return (Double((object["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0, streams.compactMap { $0["codec_type"] as? String },
                video?["width"] as? Int, video?["height"] as? Int)
    }

    /// The average colour of a picture's region (or of a video's frame `at` seconds, or its
    /// last frame with `at` < 0), as RGB.
    static func colour(_ path: String, at: Double? = nil, crop: (x: Int, y: Int, w: Int, h: Int)? = nil) async throws -> [Int] {
        var arguments = ["ffmpeg", "-v", "error"]
        if let at { arguments += at < 0 ? ["-sseof", "-0.2"] : ["-ss", String(at)] }
        arguments += ["-i", path, "-frames:v", "1"]
        // The middle of the picture, away from the writing at its edges.
        let region = crop.map { "crop=\($0.w):\($0.h):\($0.x):\($0.y)," } ?? "crop=iw/2:ih/4:iw/4:ih/2,"
        arguments += ["-vf", region + "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        let bytes = try await Shell.runData("/usr/bin/env", arguments)
        return bytes.prefix(3).map(Int.init)
    }

    static func close(_ a: [Int], _ b: [Int], within tolerance: Int = 14) -> Bool {
        a.count == 3 && b.count == 3 && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test func aLastFrameStoryboardBecomesOneFilmWithASeamSheetAndARerunRedoesNothing() async throws {
        let story = try String(contentsOf: CLI.packageRoot.appendingPathComponent("scripts/storyboard.lua"), encoding: .utf8)
        let dir = try HostileConditionsTests.scratch(story, name: "storyboard.lua")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try await CLI.run(["check", "storyboard.lua"], in: dir).status == 0)

        let first = try await CLI.run(["run", "storyboard.lua", "--latency", "0.3"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let film = try #require(first.stdout.firstMatch(of: /Film: (\S+)/)).1
        let sheet = try #require(first.stdout.firstMatch(of: /Seam sheet: (\S+)/)).1
        let clips = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)
            .filter { $0.hasPrefix("sim-") }.sorted { Int($0.split(separator: "-").last!.dropLast(4))! < Int($1.split(separator: "-").last!.dropLast(4))! }
            .map { dir.appendingPathComponent("out/\($0)").path }
        #expect(clips.count == 4)

        // The film: every clip in order, its length their sum, picture and sound.
        // Absolute: the journal keeps paths that hold from any folder.
        #expect(film.hasPrefix("/") && sheet.hasPrefix("/"), "\(film) \(sheet)")
        let filmProbe = try await Self.probe(String(film))
        var clipLengths: [Double] = []
        for clip in clips { clipLengths.append(try await Self.probe(clip).duration) }
        #expect(abs(filmProbe.duration - clipLengths.reduce(0, +)) < 0.15, "film \(filmProbe.duration) s, clips \(clipLengths)")
        #expect(filmProbe.streams.sorted() == ["audio", "video"])

        // Takes differ visibly by prompt: each shot ends on a colour of its own.
        var ends: [[Int]] = []
        for clip in clips { ends.append(try await Self.colour(clip, at: -1)) }
        for i in ends.indices { for j in ends.indices where j > i { #expect(!Self.close(ends[i], ends[j], within: 20), "shots \(i + 1) and \(j + 1) look alike: \(ends)") } }
        // Each shot opens on the one before's last frame (the simulator shows its source).
        for i in 1..<clips.count {
            let (end, start) = (try await Self.colour(clips[i - 1], at: -1), try await Self.colour(clips[i], at: 0))
            #expect(Self.close(end, start), "shot \(i + 1) does not open where shot \(i) ends")
        }
        // The seam sheet: one row per cut, the end of each clip beside the start of the next.
        let sheetPath = String(sheet)
        let sheetProbe = try await Self.probe(sheetPath)
        #expect(sheetProbe.width == 656 && sheetProbe.height == 3 * 224, "\(sheetProbe)")
        for cut in 0..<3 {
            let top = cut * 224 + 36 + 60
            let left = try await Self.colour(sheetPath, crop: (60, top, 200, 60))
            let right = try await Self.colour(sheetPath, crop: (328 + 60, top, 200, 60))
            let (before, after) = (try await Self.colour(clips[cut], at: -1), try await Self.colour(clips[cut + 1], at: 0))
            #expect(Self.close(left, before), "cut \(cut + 1): left tile \(left)")
            #expect(Self.close(right, after), "cut \(cut + 1): right tile \(right)")
        }
        // The gallery shows the four shots as one chain, with its seam sheet.
        let page = try String(contentsOf: dir.appendingPathComponent("out/gallery.html"), encoding: .utf8)
        #expect(page.contains("text_to_video → image_to_video → image_to_video → image_to_video") && page.contains(#"class="chainsheet"><img src="\#((String(sheet) as NSString).lastPathComponent)""#),
                "the chain and its seam sheet")
        print("media: storyboard film \(filmProbe.duration) s from clips \(clipLengths); seam sheet \(sheetProbe.width!)×\(sheetProbe.height!), 3 cuts checked by colour")

        // A re-run redoes nothing: no generation, no media step, the same files untouched.
        let before = try FileManager.default.attributesOfItem(atPath: sheetPath)[.modificationDate] as? Date
        let again = try await CLI.run(["run", "storyboard.lua", "--latency", "0.3"], in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("0 videos generated") && again.stdout.contains("4 reused"), "\(again.stdout)")
        #expect(again.stderr.contains("concat: reused film") && again.stderr.contains("seams: reused seam sheet"), "\(again.stderr)")
        #expect(!again.stderr.contains(": made "), "\(again.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: sheetPath)[.modificationDate] as? Date == before)
        let rows = try await Shell.run("/usr/bin/env", ["sqlite3", dir.appendingPathComponent(".reel/journal.sqlite").path, "SELECT operation FROM media WHERE operation != 'poster' ORDER BY createdAt"])
        #expect(rows.split(separator: "\n") == ["last_frame", "last_frame", "last_frame", "concat", "seams"], "\(rows)")
        // The gallery's posters, once each: the four takes and the film.
        let posters = try await Shell.run("/usr/bin/env", ["sqlite3", dir.appendingPathComponent(".reel/journal.sqlite").path, "SELECT count(*) FROM media WHERE operation = 'poster'"])
        #expect(posters.trimmingCharacters(in: .whitespacesAndNewlines) == "5", "\(posters)")
    }

    /// Cross-fades shorten the film by a fade per cut; a clip without sound gets silence;
    /// trim cuts exactly; extend takes a film.
    @Test func fadesSilenceTrimAndExtendingAFilm() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local a = text_to_video{ prompt = "a red kite", duration = 4, seed = 1 }
            local b = text_to_video{ prompt = "a blue kite", duration = 6, seed = 2, generate_audio = false }
            local film = concat({ a, b }, { transition = "fade", fade = 1 })
            local cut = concat({ a, b })
            local part = trim(cut, { from = 1, to = 3.5 })
            local longer = extend(part, "the kite climbs")
            log("durations", film.duration, cut.duration, part.duration, longer.mode, film.mode)
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await CLI.run(["run", "s.lua", "--latency", "0.2"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let line = try #require(run.stderr.firstMatch(of: /\[log\] durations\t(\S+)\t(\S+)\t(\S+)\t(\S+)\t(\S+)/))
        #expect(abs(Double(line.1)! - 9) < 0.15 && abs(Double(line.2)! - 10) < 0.15 && abs(Double(line.3)! - 2.5) < 0.1, "\(line.0)")
        #expect(line.4 == "extend" && line.5 == "concat")
        let out = dir.appendingPathComponent("out").path
        let films = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("concat-") }
        #expect(films.count == 2)
        for name in films { #expect(try await Self.probe("\(out)/\(name)").streams.sorted() == ["audio", "video"], "\(name)") }
        // The silent clip's part of the cut film is silent: its loudness at 6 s is -inf/very low.
        var found: String?
        for name in films where found == nil {
            if abs(try await Self.probe("\(out)/\(name)").duration - 10) < 0.2 { found = name }
        }
        let cutFilm = try #require(found)
        let volume = try await Shell.runError("/usr/bin/env", ["ffmpeg", "-v", "info", "-ss", "6", "-t", "2", "-i", "\(out)/\(cutFilm)", "-af", "volumedetect", "-f", "null", "-"])
        #expect(volume.contains("max_volume: -91") || volume.contains("max_volume: -inf"), "\(volume.split(separator: "\n").filter { $0.contains("volume") })")
    }

    /// A Video where an image belongs is refused — by check too — naming last_frame; a
    /// missing ffmpeg is named with the package that has it.
    @Test func aVideoAsAnImageAndAMissingFfmpegAreClearErrors() async throws {
        let dir = try HostileConditionsTests.scratch("""
            local v = text_to_video{ prompt = "a lighthouse", duration = 4 }
            image_to_video{ prompt = "the light turns", image = v }
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try await CLI.run(["check", "s.lua"], in: dir)
        #expect(check.status == 1)
        #expect(check.stderr.contains("s.lua:2:") && check.stderr.contains("'image' is a Video") && check.stderr.contains("last_frame(video)"), "\(check.stderr)")

        try "local v = text_to_video{ prompt = 'a lighthouse', duration = 4 }\nlocal f = last_frame(v)\n"
            .write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        let run = try await CLI.run(["run", "s.lua", "--latency", "0.2"], in: dir, environment: ["PATH": "/nonexistent"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("s.lua:2: last_frame: ffmpeg is not on PATH") && run.stderr.contains("apt-get install ffmpeg"), "\(run.stderr)")
    }
}

/// Runs a program and returns its output (for ffprobe, ffmpeg and sqlite3 in tests).
enum Shell {
    /// Standard output, or with `standardError` the stream ffmpeg's filters report on.
    /// (Waited for as CLI.run waits: without holding a thread of the task pool.)
    static func runData(_ program: String, _ arguments: [String], standardError: Bool = false) async throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = standardError ? FileHandle.nullDevice : pipe
        process.standardError = standardError ? pipe : FileHandle.nullDevice
        try process.run()
        let reader = Reader(pipe.fileHandleForReading)
        await process.exit()
        return await reader.data()
    }

    static func run(_ program: String, _ arguments: [String]) async throws -> String {
        String(decoding: try await runData(program, arguments), as: UTF8.self)
    }

    static func runError(_ program: String, _ arguments: [String]) async throws -> String {
        String(decoding: try await runData(program, arguments, standardError: true), as: UTF8.self)
    }
}
