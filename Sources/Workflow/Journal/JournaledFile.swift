import Foundation
import SafeFiles
import VideoAPI

/// A downloaded video as the journal knows it: copied elsewhere atomically, and only when it
/// is still the file that was journaled.
public enum JournaledFile {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// Copies `source` to `target` through a temporary file and a rename, so `target` is
    /// never half-written; with `expectedSHA256`, only if the file still has that digest.
    /// Copying a file onto itself does nothing.
    public static func copy(_ source: String, expectedSHA256: String? = nil, to target: String) async throws {
        if let expected = expectedSHA256 {
            guard FileManager.default.fileExists(atPath: source) else {
                throw Problem(description: "the journaled file \(source) is gone; run the script again to fetch it")
            }
            guard (try? RequestKey.fileSHA256(source)) == expected else {
                throw Problem(description: "\(source) is no longer the file the journal recorded (its SHA-256 differs); run the script again to fetch it")
            }
        }
        let destination = URL(fileURLWithPath: target).standardizedFileURL
        if destination.path == URL(fileURLWithPath: source).standardizedFileURL.path { return }
        do {
            try await AtomicFile.write(destination.path) { temporary in try FileManager.default.copyItem(atPath: source, toPath: temporary) }
        } catch {
            throw Problem(description: "cannot copy \(source) to \(target): \(error.localizedDescription)")
        }
    }
}
