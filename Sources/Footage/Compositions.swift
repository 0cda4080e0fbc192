import Foundation
import SafeFiles

/// The media steps as ffmpeg runs: frames out of a video, clips joined or cut, and the seam
/// sheet. Each writes `output` whole (ffmpeg to a temporary name, then a rename), so an
/// interrupted step leaves nothing that looks finished.
public enum Compositions {
    /// What every video step encodes to: H.264 + AAC in MP4, 24 frames a second, playable by
    /// browsers (yuv420p, faststart).
    static let videoEncoding = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p",
                                "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-movflags", "+faststart"]
    public static let framesPerSecond = 24

    /// The last frame of `video` as a PNG.
    public static func lastFrame(of video: String, to output: String, timeLimit: Duration? = nil) async throws {
        // Decodes the last second and keeps overwriting one image: what is left is the last frame.
        try await write(output, timeLimit: timeLimit) { temporary in
            ["-sseof", "-1", "-i", video, "-map", "0:v:0", "-update", "1", "-f", "image2", "-c:v", "png", temporary]
        }
    }

    /// The frame at `seconds` into `video` as a PNG.
    public static func frame(of video: String, at seconds: Double, to output: String, timeLimit: Duration? = nil) async throws {
        try await write(output, timeLimit: timeLimit) { temporary in
            ["-ss", decimal(seconds), "-i", video, "-map", "0:v:0", "-frames:v", "1", "-f", "image2", "-c:v", "png", temporary]
        }
    }

    /// `video` from `from` to `to` seconds (to its end when nil), re-encoded so the cut is exact.
    public static func trim(_ video: String, from: Double, to: Double?, output: String, timeLimit: Duration? = nil) async throws {
        try await write(output, timeLimit: timeLimit) { temporary in
            ["-i", video, "-ss", decimal(from)] + (to.map { ["-t", decimal($0 - from)] } ?? [])
                + ["-map", "0:v:0", "-map", "0:a:0?", "-r", String(framesPerSecond)] + videoEncoding + ["-f", "mp4", temporary]
        }
    }

    /// The clips one after another, scaled to the first one's size; with `fade`, each cut is a
    /// cross-fade of that many seconds. Audio is kept in sync: a clip without sound gives
    /// silence for its length; when no clip has sound, neither has the film.
    public static func concat(_ clips: [String], fade: Double?, output: String, timeLimit: Duration? = nil) async throws {
        precondition(!clips.isEmpty)
        var probes: [FFmpeg.Probe] = []
        for clip in clips { probes.append(try await FFmpeg.probe(clip, timeLimit: timeLimit)) }
        if let fade, let short = probes.firstIndex(where: { $0.duration <= fade }) {
            throw ClipTooShort(index: short, duration: probes[short].duration)
        }
        let width = probes[0].width ?? 1280, height = probes[0].height ?? 720
        let withAudio = probes.contains(where: \.hasAudio)
        var inputs: [String] = []
        var graph: [String] = []
        for (i, clip) in clips.enumerated() {
            inputs += ["-i", clip]
            graph.append("[\(i):v:0]scale=\(width):\(height):force_original_aspect_ratio=decrease,pad=\(width):\(height):(ow-iw)/2:(oh-ih)/2,setsar=1,fps=\(framesPerSecond),format=yuv420p,trim=duration=\(decimal(probes[i].duration)),setpts=PTS-STARTPTS[v\(i)]")
        }
        if withAudio {
            for (i, probe) in probes.enumerated() {
                // The clip's sound padded (or cut) to its picture's length, so every cut stays in sync.
                let audio = probe.hasAudio ? "[\(i):a:0]" : "anullsrc=r=48000:cl=stereo,"
                graph.append("\(audio)aresample=48000,aformat=channel_layouts=stereo,apad,atrim=duration=\(decimal(probe.duration)),asetpts=PTS-STARTPTS[a\(i)]")
            }
        }
        if let fade, clips.count > 1 {
            var offset = 0.0
            var video = "v0", audio = "a0"
            for i in 1..<clips.count {
                offset += probes[i - 1].duration - fade
                let nextVideo = i == clips.count - 1 ? "vout" : "vx\(i)"
                graph.append("[\(video)][v\(i)]xfade=transition=fade:duration=\(decimal(fade)):offset=\(decimal(offset))[\(nextVideo)]")
                video = nextVideo
                if withAudio {
                    let nextAudio = i == clips.count - 1 ? "aout" : "ax\(i)"
                    graph.append("[\(audio)][a\(i)]acrossfade=d=\(decimal(fade))[\(nextAudio)]")
                    audio = nextAudio
                }
            }
        } else {
            let pads = clips.indices.map { "[v\($0)]" + (withAudio ? "[a\($0)]" : "") }.joined()
            graph.append("\(pads)concat=n=\(clips.count):v=1:a=\(withAudio ? 1 : 0)[vout]" + (withAudio ? "[aout]" : ""))
        }
        try await write(output, timeLimit: timeLimit) { temporary in
            inputs + ["-filter_complex", graph.joined(separator: ";"), "-map", "[vout]"] + (withAudio ? ["-map", "[aout]"] : [])
                + videoEncoding + ["-f", "mp4", temporary]
        }
    }

    /// A clip no longer than the fade that should overlap it with its neighbour.
    public struct ClipTooShort: Error {
        public let index: Int
        public let duration: Double
    }

    /// One picture of a cut: an image file and the line written above it.
    public struct Tile: Sendable {
        public var image: String
        public var caption: String
        public init(image: String, caption: String) {
            self.image = image
            self.caption = caption
        }
    }

    public static let tileWidth = 320, tileHeight = 180, captionHeight = 36, gap = 8

    /// A contact sheet: one row per cut, each the two tiles side by side with their captions.
    public static func seamSheet(_ rows: [(Tile, Tile)], output: String, timeLimit: Duration? = nil) async throws {
        precondition(!rows.isEmpty)
        let scratch = try FFmpeg.scratchFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        var inputs: [String] = []
        var graph: [String] = []
        var rowLabels: [String] = []
        for (r, row) in rows.enumerated() {
            var tileLabels: [String] = []
            for (c, tile) in [row.0, row.1].enumerated() {
                let index = r * 2 + c
                let caption = scratch.appendingPathComponent("caption-\(index).txt").path
                try FFmpeg.wrapped(tile.caption, width: 48, lines: 2).write(toFile: caption, atomically: true, encoding: .utf8)
                inputs += ["-i", tile.image]
                graph.append("[\(index):v:0]scale=\(tileWidth):\(tileHeight):force_original_aspect_ratio=decrease,pad=\(tileWidth):\(tileHeight):(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,"
                             + "pad=\(tileWidth + gap):\(tileHeight + captionHeight + gap):0:\(captionHeight):color=0x1e1e1e,"
                             + "drawtext=textfile=\(filterPath(caption)):expansion=none:fontcolor=white:fontsize=11:x=4:y=5:line_spacing=3,format=rgb24[t\(index)]")
                tileLabels.append("[t\(index)]")
            }
            graph.append("\(tileLabels.joined())hstack=inputs=2[r\(r)]")
            rowLabels.append("[r\(r)]")
        }
        graph.append(rows.count == 1 ? "[r0]null[sheet]" : "\(rowLabels.joined())vstack=inputs=\(rows.count)[sheet]")
        try await write(output, timeLimit: timeLimit) { temporary in
            inputs + ["-filter_complex", graph.joined(separator: ";"), "-map", "[sheet]", "-frames:v", "1", "-f", "image2", "-c:v", "png", temporary]
        }
    }

    /// The sheet's size for `rows` cuts.
    public static func seamSheetSize(rows: Int) -> (width: Int, height: Int) {
        (2 * (tileWidth + gap), rows * (tileHeight + captionHeight + gap))
    }

    // MARK: Plumbing

    /// Runs ffmpeg to write `output` through a temporary name in the same folder (the one
    /// convention every writer in reel uses, so a run starting beside this one can tell it
    /// is still being written).
    static func write(_ output: String, timeLimit: Duration?, arguments: (String) -> [String]) async throws {
        do {
            try await AtomicFile.write(output) { temporary in
                try await FFmpeg.run("ffmpeg", ["-nostdin", "-hide_banner", "-v", "error", "-y"] + arguments(temporary), timeLimit: timeLimit)
            }
        } catch let failure as AtomicFile.Failure {
            let description = failure.description.hasPrefix("nothing was written") ? "ffmpeg wrote nothing (is the input a video with a picture?)" : failure.description
            throw FFmpeg.Failure(kind: .failed, description: description)
        }
    }

    /// A path as a filter option value: `:`, `\` and `'` escaped.
    public static func filterPath(_ path: String) -> String {
        path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:").replacingOccurrences(of: "'", with: "\\'")
    }

    /// "1.25": seconds as ffmpeg reads them (no exponent, no locale).
    static func decimal(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}
