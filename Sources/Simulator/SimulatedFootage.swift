import Foundation
import Footage
import VideoAPI

/// What a simulated video shows, so takes can be told apart by eye and by tests: a colour and
/// a tone derived from the prompt and seed, the prompt, seed and model written in the frame,
/// and the requested duration. An image-to-video take opens on its image and fades into its
/// own colour; a first/last-frame take also ends on its last image (its last half second
/// is that image, so the wiring can be checked by eye); an extension is its source video followed by the new part. Drawn by ffmpeg;
/// without ffmpeg (or if it fails) the simulator serves its small built-in sample instead.
enum SimulatedFootage {
    /// The picture's size: small, so drawing costs a fraction of a second.
    static func frameSize(_ request: GenerationRequest) -> (width: Int, height: Int) {
        request.aspectRatio == "9:16" ? (180, 320) : (320, 180)
    }

    /// `0xRRGGBB` and a tone in Hz, both from the prompt and seed.
    static func signature(_ request: GenerationRequest) -> (colour: String, tone: Int) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in "\(request.prompt)|\(request.extraBody.seed.map(String.init) ?? "-")".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hue = Double(hash % 360) / 60, saturation = 0.6, value = 0.7
        let c = value * saturation, x = c * (1 - abs(hue.truncatingRemainder(dividingBy: 2) - 1)), m = value - c
        let (r, g, b): (Double, Double, Double) = switch Int(hue) {
        case 0: (c, x, 0)
        case 1: (x, c, 0)
        case 2: (0, c, x)
        case 3: (0, x, c)
        case 4: (x, 0, c)
        default: (c, 0, x)
        }
        let hex = [r, g, b].map { String(format: "%02x", Int(($0 + m) * 255)) }.joined()
        return ("0x" + hex, 220 + Int((hash >> 20) % 660))
    }

    /// The video for `request`; `source` is the video an extension continues, `image` the
    /// picture an image-to-video take starts from, `lastImage` the one it ends on. nil when
    /// ffmpeg cannot draw it.
    static func render(_ request: GenerationRequest, source: Data?, image: Data?, lastImage: Data? = nil) async -> Data? {
        guard FFmpeg.locate("ffmpeg") != nil, let scratch = try? FFmpeg.scratchFolder() else { return nil }
        defer { try? FileManager.default.removeItem(at: scratch) }
        let part = scratch.appendingPathComponent("part.mp4").path
        let seconds = request.plannedSeconds
        var stills: [String?] = []
        for (name, data) in [("image", image), ("last-image", lastImage)] {
            guard let data else { stills.append(nil); continue }
            let path = scratch.appendingPathComponent(name).path
            guard FileManager.default.createFile(atPath: path, contents: data) else { return nil }
            stills.append(path)
        }
        do {
            try await drawPart(request, seconds: seconds, image: stills[0], lastImage: stills[1], in: scratch, output: part)
            guard request.mode == .extend, let source else { return FileManager.default.contents(atPath: part) }
            let sourcePath = scratch.appendingPathComponent("source.mp4").path
            guard FileManager.default.createFile(atPath: sourcePath, contents: source) else { return nil }
            let joined = scratch.appendingPathComponent("extended.mp4").path
            try await Compositions.concat([sourcePath, part], fade: nil, output: joined)
            return FileManager.default.contents(atPath: joined)
        } catch {
            return nil
        }
    }

    private static func drawPart(_ request: GenerationRequest, seconds: Int64, image: String?, lastImage: String?, in scratch: URL, output: String) async throws {
        let (width, height) = frameSize(request)
        let (colour, tone) = signature(request)
        let promptFile = scratch.appendingPathComponent("prompt.txt").path
        let detailsFile = scratch.appendingPathComponent("details.txt").path
        try FFmpeg.wrapped(request.prompt, width: width / 8, lines: 4).write(toFile: promptFile, atomically: true, encoding: .utf8)
        let seed = request.extraBody.seed.map { "seed \($0)" } ?? "no seed"
        try "\(seed)  \(request.model)".write(toFile: detailsFile, atomically: true, encoding: .utf8)
        let audio = request.extraBody.generateAudio != false
        let fps = Compositions.framesPerSecond
        var inputs = ["-f", "lavfi", "-i", "color=c=\(colour):s=\(width)x\(height):r=\(fps):d=\(seconds)"]
        var graph: [String] = []
        var picture = "[0:v]"
        // An image-to-video take opens on its image (its first frame is the image) and fades
        // into its own colour; the writing appears once the image has gone.
        var textFrom = 0.0
        var nextInput = 1
        func still(_ path: String, seconds: Int64, label: String) {
            inputs += ["-loop", "1", "-t", String(seconds), "-i", path]
            graph.append("[\(nextInput):v]scale=\(width):\(height):force_original_aspect_ratio=decrease,pad=\(width):\(height):(ow-iw)/2:(oh-ih)/2,setsar=1,fps=\(fps),format=yuv420p[\(label)]")
            nextInput += 1
        }
        if let image {
            still(image, seconds: seconds, label: "still")
            graph.append("[0:v]format=yuv420p[panel]")
            graph.append("[still][panel]xfade=transition=fade:duration=1:offset=1[opened]")
            picture = "[opened]"
            textFrom = 1.5
        }
        let enable = textFrom > 0 ? ":enable='gte(t\\,\(textFrom))'" : ""
        graph.append("\(picture)drawtext=textfile=\(Compositions.filterPath(promptFile)):expansion=none:fontcolor=white:fontsize=15:x=10:y=10:line_spacing=4\(enable),"
                     + "drawtext=textfile=\(Compositions.filterPath(detailsFile)):expansion=none:fontcolor=white:fontsize=11:x=10:y=h-th-10\(enable),"
                     + "drawtext=text='%{pts\\:hms}':fontcolor=white@0.8:fontsize=11:x=w-tw-10:y=h-th-10\(enable),format=yuv420p[\(lastImage == nil ? "picture" : "written")]")
        if let lastImage {
            // The last second fades into the last image: the final half second is the image.
            still(lastImage, seconds: 1, label: "ending")
            graph.append("[written][ending]xfade=transition=fade:duration=0.5:offset=\(seconds - 1)[picture]")
        }
        let audioIndex = nextInput
        if audio {
            inputs += ["-f", "lavfi", "-i", "sine=frequency=\(tone):sample_rate=48000:duration=\(seconds)"]
        }
        try await FFmpeg.run("ffmpeg", ["-nostdin", "-hide_banner", "-v", "error", "-y"] + inputs
                                + ["-filter_complex", graph.joined(separator: ";"), "-map", "[picture]"]
                                + (audio ? ["-map", "\(audioIndex):a"] : [])
                                + ["-t", String(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p"]
                                + (audio ? ["-c:a", "aac", "-b:a", "48k"] : []) + ["-movflags", "+faststart", output])
    }
}
