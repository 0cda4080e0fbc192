import Foundation
import Synchronization

/// Secrets that must never appear in what reel prints, journals or hands to Lua. A gateway
/// or proxy may quote the request's `Authorization` header in an error body; every text that
/// comes from the network passes through `redact` before anything else sees it.
public enum Redaction {
    private static let secrets = Mutex<[String]>([])

    /// Registers a secret (the API key). Short strings are not registered: replacing them
    /// would garble ordinary text and they are no key anyway.
    public static func register(_ secret: String) {
        guard secret.count >= 8 else { return }
        secrets.withLock { if !$0.contains(secret) { $0.append(secret) } }
    }

    public static let placeholder = "[redacted]"

    /// `text` with every registered secret and every `Bearer …` token replaced.
    public static func redact(_ text: String) -> String {
        guard needsRedaction(text) else { return text }
        var result = text
        for secret in secrets.withLock({ $0 }) where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: placeholder)
        }
        guard containsBearer(result) else { return result }
        return bearerToken.stringByReplacingMatches(in: result, range: NSRange(result.startIndex..., in: result),
                                                    withTemplate: "$1\(placeholder)")
    }

    /// Whether `text` holds anything `redact` would replace (a cheap test for hot paths).
    public static func needsRedaction(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { needsRedaction(UnsafeRawBufferPointer($0)) }
    }

    /// Whether these UTF-8 bytes (a reply's body) hold anything `redact` would replace: a
    /// scan of the bytes, not Foundation's case-insensitive search (about 1% of a run's CPU,
    /// for every reply).
    public static func needsRedaction(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if containsBearer(bytes) { return true }
        return secrets.withLock { $0 }.contains { secret in
            var secret = secret
            return secret.withUTF8 { contains(bytes, UnsafeRawBufferPointer($0)) }
        }
    }

    private static func contains(_ bytes: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        guard let first = needle.first, bytes.count >= needle.count else { return needle.isEmpty }
        for start in 0...(bytes.count - needle.count) where bytes[start] == first
            && memcmp(bytes.baseAddress! + start, needle.baseAddress!, needle.count) == 0 { return true }
        return false
    }

    private static func containsBearer(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { containsBearer(UnsafeRawBufferPointer($0)) }
    }

    /// "bearer" in any case, as `redact` looks for it.
    private static func containsBearer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let word = bearer
        guard bytes.count >= word.count else { return false }
        outer: for start in 0...(bytes.count - word.count) where bytes[start] | 0x20 == word[0] {
            for offset in 1..<word.count where bytes[start + offset] | 0x20 != word[offset] { continue outer }
            return true
        }
        return false
    }

    private static let bearer = Array("bearer".utf8)
    private static let bearerToken = try! NSRegularExpression(pattern: #"(?i)(bearer\s+)[A-Za-z0-9._~+/=:-]+"#)
}
