/// Whether a download is a video at all. A result URL can answer 200 with a login page, an
/// error in JSON, or a CDN's "expired" note; saved under the video's name and journaled as
/// downloaded, that would be reused by every re-run. So a result must be declared as
/// something other than text and start like a video file.
enum MediaSignature {
    /// Bytes needed to recognise a signature.
    static let prefixLength = 12

    /// Why a `Content-Type` rules the reply out as a video, or nil.
    static func problem(contentType: String?) -> String? {
        guard let contentType else { return nil }
        // The media type before any parameter, trimmed and lower-cased, as bytes: Foundation's
        // character sets (or Character by Character) cost more than the rest of a download.
        var media = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        while let first = media.first, first == 0x20 || first == 0x09 { media = media.dropFirst() }
        while let last = media.last, last == 0x20 || last == 0x09 { media = media.dropLast() }
        guard !media.isEmpty else { return nil }
        let type = String(decoding: media.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        if type.hasPrefix("text/") || type.hasSuffix("/json") || type.hasSuffix("+json") || type.hasSuffix("/xml") || type.hasSuffix("+xml") {
            return "the server sent \(type), not a video"
        }
        return nil
    }

    /// Whether `prefix` (the first bytes) starts an MP4/MOV (`ftyp` box) or WebM/Matroska (EBML) file.
    static func looksLikeVideo(_ prefix: [UInt8]) -> Bool {
        if prefix.count >= 8, Array(prefix[4..<8]) == Array("ftyp".utf8) { return true }
        if prefix.count >= 4, prefix[0..<4] == [0x1A, 0x45, 0xDF, 0xA3] { return true }
        return false
    }

    /// A printable glimpse of what came instead.
    static func glimpse(_ prefix: [UInt8]) -> String {
        let text = String(decoding: prefix, as: UTF8.self).map { $0.isASCII && !$0.isNewline && ($0.asciiValue ?? 0) >= 32 ? $0 : "." }
        return "\"" + String(text) + "…\""
    }
}
