import Foundation

/// Lower-case hex of a digest, without Foundation's formatter (which showed in profiles:
/// every request key and every download is hashed).
public enum Hex {
    private static let digits: StaticString = "0123456789abcdef"

    /// Written straight into the string's storage from the bytes in place: a digest read
    /// through its Sequence iterator cost about 17 thousand instructions.
    public static func string(_ bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { input in
            String(unsafeUninitializedCapacity: input.count * 2) { output in
                let hex = digits.utf8Start
                for (i, byte) in input.enumerated() {
                    output[2 * i] = hex[Int(byte >> 4)]
                    output[2 * i + 1] = hex[Int(byte & 0x0f)]
                }
                return input.count * 2
            }
        }
    }
}
