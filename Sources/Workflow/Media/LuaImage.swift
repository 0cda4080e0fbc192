import LuaRuntime
import VideoAPI

/// An `Image` in Lua: a picture a media step made (`last_frame`, `frame`, `seams`), with
/// read-only fields. Every image option (`image`, `last_image`, `images`) takes it; in a dry
/// run it is a stand-in whose `path` is a placeholder URL, so the chain checks end to end.
enum LuaImage {
    static let typeName = "reel.Image"
    static let readOnlyMessage = "an Image's fields are read-only"

    final class Handle: Sendable {
        let output: MediaOutput
        /// What it was taken from: `last frame of s.lua:4 "a red fox…" seed 7`.
        let label: String
        init(_ output: MediaOutput, label: String) {
            self.output = output
            self.label = label
        }

        /// Where it is: its file (absolute), or a dry run's placeholder.
        var location: String { output.path.map(LuaVideo.absolute) ?? output.placeholder ?? "" }
    }

    static func make(_ output: MediaOutput, label: String) -> LuaValue {
        .userdata(LuaUserdata(Handle(output, label: label), metatable: typeName))
    }

    static func handle(in value: LuaValue) -> Handle? {
        guard case .userdata(let u) = value else { return nil }
        return u.object as? Handle
    }

    static func value(of field: String, in handle: Handle) -> LuaValue {
        let output = handle.output
        return switch field {
        case "path": .string(handle.location)
        case "width": output.width.map { .integer(Int64($0)) } ?? .nil
        case "height": output.height.map { .integer(Int64($0)) } ?? .nil
        case "kind": .string(output.step.function)
        case "label": .string(handle.label)
        case "reused": output.reused ? .boolean(true) : .nil
        default: .nil
        }
    }

    static func field(_ call: LuaCall) throws -> HostResult {
        guard let handle = handle(in: try call.argument(1)), case .string(let key) = try call.argument(2) else { return .value(.nil) }
        return .value(value(of: key, in: handle))
    }

    static func allFields(_ call: LuaCall) throws -> HostResult {
        guard let handle = handle(in: try call.argument(1)) else { return .value(.table(LuaTable())) }
        var fields: [String: LuaValue] = [:]
        for field in LuaAPI.imageFields { fields[field.name] = value(of: field.name, in: handle) }
        return .value(.table(LuaTable(fields: fields)))
    }

    static func tostring(_ call: LuaCall) throws -> HostResult {
        guard let handle = handle(in: try call.argument(1)) else { return .value("Image") }
        return .value(.string("Image(\(handle.output.step.function), path=\(handle.location))"))
    }
}
