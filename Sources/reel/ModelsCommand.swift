import ArgumentParser
import Support
import VideoAPI
import Workflow

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        _superCommandName: "reel",
        abstract: "List the models and what each can do.",
        discussion: "The same table the validation uses: a request a model cannot do is refused before anything is sent. With prices set (reel.json, REEL_PRICES_…, --price), each model's price per second and where it came from."
    )

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup(title: "Prices") var pricing: PriceOptions

    func run() async throws {
        let prices = try await pricing.prices()
        if json {
            let list = JSONValue.array(Capabilities.models.map { model in
                var fields: [(String, JSONValue)] = [
                    ("name", .string(model.name)), ("size", .string(model.resolution.rawValue)), ("fast", .bool(model.isFast)),
                    ("modes", .array(model.modes.map { .string($0.rawValue) })),
                    ("default", .bool(model.name == Capabilities.defaultModelName)),
                ]
                if let price = prices.byModel[model.name] {
                    fields.append(("price", .object([("per_second", .double(price.perSecond)),
                                                     ("per_second_with_audio", price.perSecondWithAudio.map(JSONValue.double) ?? .null),
                                                     ("currency", .string(prices.currency)), ("source", .string(price.source))])))
                }
                return .object(fields)
            })
            print(list.pretty())
            return
        }
        print(Self.table(prices: prices))
    }

    static func table(prices: Prices = Prices()) -> String {
        let modes = GenerationMode.allCases
        let headers = ["MODEL", "SIZE"] + modes.map(\.luaFunction) + (prices.isEmpty ? [] : ["PRICE/S", "WITH AUDIO", "FROM"])
        var rows = [headers]
        for model in Capabilities.models {
            var row = [model.name + (model.name == Capabilities.defaultModelName ? " *" : ""), model.resolution.rawValue]
                + modes.map { model.supports($0) ? "yes" : "-" }
            if !prices.isEmpty {
                let price = prices.byModel[model.name]
                row += [price.map { prices.format($0.perSecond) } ?? "-", price?.perSecondWithAudio.map(prices.format) ?? "-", price?.source ?? "-"]
            }
            rows.append(row)
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
            \(prices.isEmpty ? "No prices set: reel counts seconds of video (set them in reel.json, REEL_PRICES_…, or --price)." : "Prices per second of video, as you set them; reel ships none.")
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
