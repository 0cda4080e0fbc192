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
        var result = text
        for secret in secrets.withLock({ $0 }) where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: placeholder)
        }
        guard result.range(of: "bearer", options: .caseInsensitive) != nil else { return result }
        return bearerToken.stringByReplacingMatches(in: result, range: NSRange(result.startIndex..., in: result),
                                                    withTemplate: "$1\(placeholder)")
    }

    /// Whether `text` holds anything `redact` would replace (a cheap test for hot paths).
    public static func needsRedaction(_ text: String) -> Bool {
        text.range(of: "bearer", options: .caseInsensitive) != nil || secrets.withLock { $0 }.contains { text.contains($0) }
    }

    private static let bearerToken = try! NSRegularExpression(pattern: #"(?i)(bearer\s+)[A-Za-z0-9._~+/=:-]+"#)
}
