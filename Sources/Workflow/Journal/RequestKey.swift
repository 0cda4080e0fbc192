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
        base(baseURL: baseURL, request: request, inputKeys: inputKeys, sha256: try contentHashes(request))
    }

    /// The same with each local or inline input's hash (`contentHashes`) already known.
    static func base(baseURL: String, request: GenerationRequest, inputKeys: [String: String], sha256: [MediaInput: String]) -> String {
        let body = request.body { input -> String in
            if case .url(let url) = input { return inputKeys[url].map { "step:" + $0 } ?? url }
            return byContent(input, sha256)
        }
        return hex(SHA256.hash(data: Data((baseURL + "\n" + body.encoded(sortKeys: true)).utf8)))
    }

    /// The SHA-256 (hex) of each local file's and inline input's content: hashed once per
    /// call, for its key, its journal record and the body it sends. Empty for URL inputs
    /// only (no allocation for the usual text call).
    static func contentHashes(_ request: GenerationRequest) throws -> [MediaInput: String] {
        var hashes: [MediaInput: String] = [:]
        for input in request.mediaInputs where hashes[input] == nil {
            switch input {
            case .url: continue
            case .dataURI(let data): hashes[input] = hex(SHA256.hash(data: Data(data.utf8)))
            case .localFile(let path, _, _): hashes[input] = try fileSHA256(path)
            case .recorded(let text): hashes[input] = text
            }
        }
        return hashes
    }

    /// An input as the journal refers to it: a URL as it is, anything else by its content.
    static func byContent(_ input: MediaInput, _ sha256: [MediaInput: String]) -> String {
        if case .url(let url) = input { return url }
        return "sha256:" + (sha256[input] ?? "")
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
