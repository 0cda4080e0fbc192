import Crypto
import Foundation
import Footage
import Support
import VideoAPI

/// Carries out media steps with ffmpeg, journaled like generations: each output is keyed by
/// the step and its inputs' content, so a re-run finds it (its file checked by SHA-256)
/// instead of running ffmpeg again. Outputs go to the output folder as
/// `<function>-<key>.png|mp4`; a step is bounded by the run's `--timeout` and ends its
/// ffmpeg on Ctrl-C.
struct LiveMedia: Sendable {
    let journal: Journal
    let runID: Int64
    let outputDirectory: String
    let timeLimit: Duration?

    func run(_ step: MediaStep) async throws -> MediaOutput {
        let name = step.function
        for program in ["ffmpeg", "ffprobe"] where FFmpeg.locate(program) == nil {
            throw VideoAPIError(.media, "\(name): " + FFmpeg.missingMessage(program))
        }
        var hashes: [String] = []
        for clip in step.clips {
            guard let path = clip.path else {
                throw VideoAPIError(.media, "\(name): \(clip.label) has no local file (a failed or refused take?)")
            }
            do { hashes.append(try RequestKey.fileSHA256(path)) } catch {
                throw VideoAPIError(.media, "\(name): cannot read \(path): it was moved or deleted since it was made")
            }
        }
        let key = MediaRecord.key(operation: name, parameters: step.parameters, inputSHA256s: hashes)
        if let record = try? await journal.media(key: key), FileManager.default.fileExists(atPath: record.path),
           (try? RequestKey.fileSHA256(record.path)) == record.sha256 {
            try? await journal.recordMedia(MediaRecord(key: key, runID: runID, operation: name, path: record.path, sha256: record.sha256, bytes: record.bytes,
                                                       duration: record.duration, width: record.width, height: record.height, createdAt: record.createdAt,
                                                       inputs: record.inputs))
            return MediaOutput(step: step, path: record.path, duration: record.duration, width: record.width, height: record.height, reused: true)
        }
        let output = (outputDirectory as NSString).appendingPathComponent("\(name)-\(key.prefix(12)).\(step.makesImage ? "png" : "mp4")")
        do {
            try await make(step, output: output)
        } catch let failure as FFmpeg.Failure {
            throw VideoAPIError(failure.kind == .timedOut ? .timeout : .media, "\(name): \(failure.description)")
        } catch is CancellationError {
            throw VideoAPIError(.cancelled, "\(name): cancelled")
        } catch let error as VideoAPIError {
            throw error
        } catch {
            throw VideoAPIError(.disk, "\(name): cannot write \(output): \(error)")
        }
        let probe = try? await FFmpeg.probe(output, timeLimit: timeLimit)
        let sha = try RequestKey.fileSHA256(output)
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: output))?[.size] as? NSNumber)?.int64Value ?? 0
        let record = MediaRecord(key: key, runID: runID, operation: name, path: output, sha256: sha, bytes: bytes,
                                 duration: step.makesImage ? nil : probe?.duration, width: probe?.width, height: probe?.height,
                                 createdAt: Date().timeIntervalSince1970,
                                 inputs: JSONValue.array(step.clips.compactMap(\.path).map(JSONValue.string)).encoded())
        do { try await journal.recordMedia(record) } catch {
            // The file is there and whole; only the shortcut for the next run is lost.
        }
        return MediaOutput(step: step, path: output, duration: record.duration, width: record.width, height: record.height)
    }

    private func make(_ step: MediaStep, output: String) async throws {
        switch step {
        case .lastFrame(let clip):
            try await Compositions.lastFrame(of: clip.path!, to: output, timeLimit: timeLimit)
        case .frame(let clip, let seconds):
            try await Compositions.frame(of: clip.path!, at: seconds, to: output, timeLimit: timeLimit)
        case .concat(let clips, let fade):
            do {
                try await Compositions.concat(clips.map { $0.path! }, fade: fade, output: output, timeLimit: timeLimit)
            } catch let short as Compositions.ClipTooShort {
                throw VideoAPIError(.media, "concat: \(clips[short.index].label) is \(String(format: "%.1f", short.duration)) s long, too short for a \(fade ?? 0) s fade; use a shorter fade or transition = \"cut\"")
            }
        case .trim(let clip, let from, let to):
            let length = try await FFmpeg.probe(clip.path!, timeLimit: timeLimit).duration
            guard from < length - 0.01 else {
                throw VideoAPIError(.media, "trim: 'from' (\(from) s) is past the end of \(clip.label) (\(String(format: "%.2f", length)) s long)")
            }
            try await Compositions.trim(clip.path!, from: from, to: to.map { min($0, length) }, output: output, timeLimit: timeLimit)
        case .seams(let clips):
            let scratch = try FFmpeg.scratchFolder()
            defer { try? FileManager.default.removeItem(at: scratch) }
            var rows: [(Compositions.Tile, Compositions.Tile)] = []
            for i in 0..<(clips.count - 1) {
                let end = scratch.appendingPathComponent("end-\(i).png").path
                let start = scratch.appendingPathComponent("start-\(i + 1).png").path
                try await Compositions.lastFrame(of: clips[i].path!, to: end, timeLimit: timeLimit)
                try await Compositions.frame(of: clips[i + 1].path!, at: 0, to: start, timeLimit: timeLimit)
                rows.append((Compositions.Tile(image: end, caption: "cut \(i + 1): end of \(clips[i].label)"),
                             Compositions.Tile(image: start, caption: "start of \(clips[i + 1].label)")))
            }
            try await Compositions.seamSheet(rows, output: output, timeLimit: timeLimit)
        }
    }
}

extension MediaRecord {
    /// An output made outside a run's steps (a gallery's poster): no duration or size.
    public init(key: String, runID: Int64, operation: String, path: String, sha256: String, bytes: Int64, inputs: [String]) {
        self.init(key: key, runID: runID, operation: operation, path: path, sha256: sha256, bytes: bytes, duration: nil, width: nil, height: nil,
                  createdAt: Date().timeIntervalSince1970, inputs: JSONValue.array(inputs.map(JSONValue.string)).encoded())
    }

    /// A media output's journal key: what made it and its inputs' content, so the same step
    /// on the same files finds it again (a gallery's posters are keyed the same way).
    public static func key(operation: String, parameters: String, inputSHA256s: [String]) -> String {
        RequestKey.hex(SHA256.hash(data: Data(([operation, parameters] + inputSHA256s).joined(separator: "\n").utf8)))
    }
}
