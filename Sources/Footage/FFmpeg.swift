import Foundation
import Subprocess
import Support
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// ffmpeg and ffprobe, found on PATH and run through swift-subprocess: a cancelled task ends
/// its ffmpeg (SIGTERM, then SIGKILL half a second later), and a run may be bounded in time.
public enum FFmpeg {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable { case missing, failed, timedOut }
        public let kind: Kind
        public let description: String
    }

    /// The program's path, or nil when it is not on PATH.
    public static func locate(_ program: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// What to say when a program is missing (the caller names the step that needed it).
    public static func missingMessage(_ program: String) -> String {
        "\(program) is not on PATH, and this step needs it: install it (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg)"
    }

    /// Runs `program` with `arguments`; returns its standard output. Fails with the end of its
    /// standard error when it exits non-zero, and after `timeLimit` if one is given.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], timeLimit: Duration? = nil) async throws -> String {
        guard let path = locate(program) else {
            throw Failure(kind: .missing, description: missingMessage(program))
        }
        var platformOptions = PlatformOptions()
        platformOptions.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .milliseconds(500))]
        let options = platformOptions
        let work: @Sendable () async throws -> (status: TerminationStatus, output: String, error: String) = {
            let result = try await Subprocess.run(.path(FilePath(path)), arguments: Arguments(arguments), platformOptions: options,
                                                  input: .none, output: .string(limit: 1 << 22), error: .string(limit: 1 << 20))
            // A cancelled run ends as a process stopped by SIGTERM, not a result: throwing here lets
            // `withTimeout` say the limit stopped it (and a caller's cancellation stay one).
            try Task.checkCancellation()
            return (result.terminationStatus, result.standardOutput ?? "", result.standardError ?? "")
        }
        let outcome: (status: TerminationStatus, output: String, error: String)
        if let timeLimit {
            do {
                outcome = try await withTimeout(timeLimit, operation: work)
            } catch is TimeBound.Exceeded {
                throw Failure(kind: .timedOut, description: "\(program) was still running after \(timeLimit) (the run's --timeout); it was stopped")
            }
        } else {
            outcome = try await work()
        }
        try Task.checkCancellation()
        guard outcome.status.isSuccess else {
            let tail = outcome.error.split(separator: "\n").suffix(3).joined(separator: " / ")
            throw Failure(kind: .failed, description: "\(program) failed (\(outcome.status)): \(tail.isEmpty ? "no message" : tail)")
        }
        return outcome.output
    }

    /// What ffprobe says of a media file.
    public struct Probe: Sendable, Equatable {
        public var duration: Double
        public var width: Int?
        public var height: Int?
        public var hasAudio: Bool
        public var hasVideo: Bool
    }

    public static func probe(_ path: String, timeLimit: Duration? = nil) async throws -> Probe {
        let output = try await run("ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=codec_type,width,height",
                                               "-of", "json", path], timeLimit: timeLimit)
        guard let answer = try? JSONValue.parse(Array(output.utf8)), answer.objectFields != nil else {
            throw Failure(kind: .failed, description: "ffprobe gave no readable answer for \(path)")
        }
        let streams: [JSONValue] = if case .array(let streams)? = answer["streams"] { streams } else { [] }
        let video = streams.first { $0["codec_type"]?.stringValue == "video" }
        func size(_ key: String) -> Int? { if case .int(let pixels)? = video?[key] { Int(pixels) } else { nil } }
        // ffprobe writes the duration as a string ("8.000000").
        let duration = Double(answer["format"]?["duration"]?.stringValue ?? "") ?? 0
        return Probe(duration: duration, width: size("width"), height: size("height"),
                     hasAudio: streams.contains { $0["codec_type"]?.stringValue == "audio" }, hasVideo: video != nil)
    }

    /// Text for drawtext's `textfile=` (so no prompt needs escaping): `text` wrapped at
    /// `width` characters, at most `lines` lines.
    public static func wrapped(_ text: String, width: Int, lines: Int) -> String {
        var out: [String] = []
        var line = ""
        for word in text.split(whereSeparator: \.isWhitespace) {
            if !line.isEmpty && line.count + 1 + word.count > width {
                out.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { out.append(line) }
        if out.count > lines {
            out = Array(out.prefix(lines))
            out[lines - 1] = String(out[lines - 1].prefix(width - 1)) + "…"
        }
        return out.joined(separator: "\n")
    }

    /// A fresh private folder for a step's intermediate files.
    public static func scratchFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reel-media-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
