import Crypto
import Foundation
import Support
import Synchronization
import VideoAPI

/// What makes two generations "the same" for the journal: the gateway, the canonical request
/// (keys sorted; a local file by its content; a video made by an earlier step by that step's
/// key, since its URL may change between runs), and which occurrence of that request this is
/// within the run — three identical takes are three videos, not one.
public enum RequestKey {
    /// The key of `request`'s canonical form; `inputKeys` maps URLs of videos this run made
    /// to their own keys.
    static func base(baseURL: String, request: GenerationRequest, inputKeys: [String: String]) throws -> String {
        let body = try request.body { input -> String in
            switch input {
            case .url(let url): return inputKeys[url].map { "step:" + $0 } ?? url
            case .dataURI(let data): return "sha256:" + hex(SHA256.hash(data: Data(data.utf8)))
            case .localFile(let path, _, _): return "sha256:" + (try fileSHA256(path))
            }
        }
        return hex(SHA256.hash(data: Data((baseURL + "\n" + body.encoded(sortKeys: true)).utf8)))
    }

    static func occurrence(_ base: String, _ n: Int) -> String { "\(base)#\(n)" }

    /// SHA-256 of a file, read in chunks.
    public static func fileSHA256(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw VideoAPIError(.invalidRequest, "cannot read local file '\(path)'")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hex(hasher.finalize())
    }

    static func hex(_ digest: some ContiguousBytes) -> String {
        Hex.string(digest)
    }
}

/// Counts how often each request key has come up in this run.
final class OccurrenceCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func next(_ base: String) -> Int {
        counts.withLock {
            $0[base, default: 0] += 1
            return $0[base]!
        }
    }
}
