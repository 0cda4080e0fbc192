import ArgumentParser
import VideoAPI

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the models and what each can do.",
        discussion: "The same table the validation uses: a request a model cannot do is refused before anything is sent."
    )

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() {
        if json {
            let list = JSONValue.array(Capabilities.models.map { model in
                .object([
                    ("name", .string(model.name)), ("size", .string(model.resolution.rawValue)), ("fast", .bool(model.isFast)),
                    ("modes", .array(model.modes.map { .string($0.rawValue) })),
                    ("default", .bool(model.name == Capabilities.defaultModelName)),
                ])
            })
            print(list.pretty())
            return
        }
        print(Self.table())
    }

    static func table() -> String {
        let modes = GenerationMode.allCases
        let headers = ["MODEL", "SIZE"] + modes.map(\.luaFunction)
        var rows = [headers]
        for model in Capabilities.models {
            rows.append([model.name + (model.name == Capabilities.defaultModelName ? " *" : ""), model.resolution.rawValue]
                        + modes.map { model.supports($0) ? "yes" : "-" })
        }
        let widths = headers.indices.map { column in rows.map { $0[column].count }.max()! }
        var out = rows.map { row in
            row.enumerated().map { i, cell in cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
        out += """


            * the default (cheapest); change it with REEL_MODEL, --model or defaults{model=…}.
            size: must be the model's own and defaults to it. aspect_ratio: \(Capabilities.aspectRatios.joined(separator: " or ")).
            duration: \(Capabilities.durations.map(String.init).joined(separator: ", ")) s. reference_to_video takes \(Capabilities.referenceImageCount.lowerBound)–\(Capabilities.referenceImageCount.upperBound) images.
            Upstream Veo: extension is 720p-only and adds about \(Capabilities.extensionAddsSeconds) s; 1080p/4k, first+last and
            reference are 8 s only (reel warns, since the gateway's own examples break these).
            """
        return out
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
