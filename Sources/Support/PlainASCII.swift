/// Whether a name (a task id) is only ASCII letters, digits and a few punctuation marks: then
/// it can be used as it is, without the Unicode look-ups (or Foundation character sets) that
/// escaping or cleaning it would cost for every generation.
public enum PlainASCII {
    public static func isPlain(_ text: String, punctuation: String) -> Bool {
        text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            default: punctuation.utf8.contains(byte)
            }
        }
    }
}
