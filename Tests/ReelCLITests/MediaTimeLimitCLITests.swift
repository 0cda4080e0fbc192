import Foundation
import Testing

/// A media step's ffmpeg is bounded by the run's --timeout (`withTimeout`, the one time
/// limit): past it the step fails by name and its ffmpeg is stopped, not left running.
@Suite struct MediaTimeLimitCLITests {
    @Test func anFFmpegThatRunsPastTheTimeoutIsStoppedAndTheStepSaysSo() async throws {
        // The take first, with no limit to speak of (drawing it is slow on a loaded machine); the
        // run under test reuses it from the journal, so its --timeout meets only the ffmpeg.
        let generate = "local clip = text_to_video{ prompt = 'a lighthouse at dusk', duration = 4 }\n"
        let dir = try HostileConditionsTests.scratch(generate)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try await CLI.run(["run", "s.lua"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        try (generate + "last_frame(clip)\n").write(to: dir.appendingPathComponent("s.lua"), atomically: true, encoding: .utf8)
        // An ffmpeg that hangs on last_frame's command (the only one with -sseof) and is the
        // real one for everything else.
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let pidFile = dir.appendingPathComponent("hung.pid").path
        let fake = bin.appendingPathComponent("ffmpeg").path
        try """
            #!/bin/sh
            case " $* " in *" -sseof "*) echo $$ > '\(pidFile)'; exec sleep 600;; esac
            PATH="${PATH#*:}" exec ffmpeg "$@"
            """.write(toFile: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

        let result = try await CLI.run(["run", "s.lua", "--timeout", "3"], in: dir, environment: ["PATH": path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("1 held by the journal (reused, free), 0 to generate"), "\(result.stderr)")
        #expect(result.stderr.contains("ffmpeg was still running after 3.0 seconds (the run's --timeout); it was stopped"), "\(result.stderr)")
        // The hung ffmpeg was reached (its pid written) and is gone, not orphaned.
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "ffmpeg (pid \(pid)) is still running")
    }
}
