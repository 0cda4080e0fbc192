import LuaRuntime
import Support
import VideoAPI

/// Converting between Lua values and JSON values, keeping integers and floats apart.
enum LuaJSON {
    struct ConversionError: Error { let message: String }

    /// A Lua value as JSON: a sequence becomes a list, any other table an object with string
    /// keys; a `Video` becomes its URL.
    static func json(from value: LuaValue, path: String) throws -> JSONValue? {
        switch value {
        case .nil: return nil
        case .boolean(let b): return .bool(b)
        case .integer(let i): return .int(i)
        case .number(let d): return .double(d)
        case .string(let s):
            // Sent as U+FFFD, two different prompts would be one request (and one video).
            if let (byte, offset) = LuaText.invalidByte(in: s) {
                throw ConversionError(message: "'\(path)' is not valid UTF-8 (byte 0x\(String(byte, radix: 16, uppercase: true)) at byte \(offset + 1)); requests carry text as UTF-8: save the script or CSV as UTF-8, or build the text without that byte")
            }
            return .string(s)
        case .userdata where LuaVideo.video(in: value) != nil:
            let video = LuaVideo.video(in: value)!
            let field = path.split(separator: "[").first.map(String.init) ?? path
            if ["image", "last_image", "images"].contains(field) {
                throw ConversionError(message: "'\(path)' is a Video, and image options take a picture: use last_frame(video) for its last frame, or frame(video, seconds)")
            }
            // A generation is sent by its URL; a video made here (concat, trim) as its file.
            if let url = video.url { return .string(url) }
            if let file = video.localPath { return .string(LuaVideo.absolute(file)) }
            throw ConversionError(message: "'\(path)' is a Video without a URL or a file (was it generated?)")
        case .userdata where LuaImage.handle(in: value) != nil:
            let image = LuaImage.handle(in: value)!
            if path == "video" {
                throw ConversionError(message: "'video' is an Image; extend takes a Video (image_to_video{ image = … } starts a new shot from an Image)")
            }
            return .string(image.location)
        case .table(let table):
            if table.isEmpty { return .array([]) }
            if let items = table.sequence {
                return .array(try items.enumerated().map { i, item in
                    try json(from: item, path: "\(path)[\(i + 1)]") ?? .null
                })
            }
            var fields: [(String, JSONValue)] = []
            for (key, item) in table.entries.sorted(by: { "\($0.key)" < "\($1.key)" }) {
                guard case .string(let name) = key else {
                    throw ConversionError(message: "'\(path)' mixes a list with named fields (key \(describe(key)))")
                }
                if let converted = try json(from: item, path: "\(path).\(name)") { fields.append((name, converted)) }
            }
            return .object(fields)
        case .userdata, .opaque:
            throw ConversionError(message: "'\(path)' cannot be a \(value.typeName)")
        }
    }

    /// JSON as a Lua value (tables for objects and lists).
    static func lua(from json: JSONValue) -> LuaValue {
        switch json {
        case .null: .nil
        case .bool(let b): .boolean(b)
        case .int(let i): .integer(i)
        case .double(let d): .number(d)
        case .string(let s): .string(s)
        case .array(let items): .table(LuaTable(array: items.map(lua(from:))))
        case .object(let fields): .table(LuaTable(fields: Dictionary(fields.map { ($0.0, lua(from: $0.1)) }, uniquingKeysWith: { a, _ in a })))
        }
    }

    /// A table as compact JSON for `log()`, or its type when it will not convert.
    static func tryJSON(_ table: LuaTable) -> String {
        guard let json = try? json(from: .table(table), path: "value") else { return "table" }
        return json.encoded()
    }

    static func describe(_ key: LuaValue) -> String {
        switch key {
        case .integer(let i): "\(i)"
        case .number(let d): "\(d)"
        case .string(let s): "'\(s)'"
        default: key.typeName
        }
    }
}
