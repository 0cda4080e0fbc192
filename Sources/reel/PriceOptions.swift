import ArgumentParser
import Configuration
import Foundation
import SystemPackage
import VideoAPI
import Workflow

/// Where prices come from, layered by swift-configuration: `--price` flags over `REEL_PRICES_…`
/// environment variables over the project's `reel.json` (found as `Project` says). reel ships no prices of its own.
///
/// ```json
/// { "currency": "USD",
///   "prices": { "veo3.1-fast-video-720p": { "per_second": 0.10, "per_second_with_audio": 0.15 } } }
/// ```
/// The environment spells a key in capitals with underscores, after `REEL_`:
/// `REEL_PRICES_VEO3_1_FAST_VIDEO_720P_PER_SECOND=0.10`.
struct PriceOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("The project's config file (prices, currency); default: reel.json in the project's folder.", valueName: "file"))
    var explicitConfigFile: String?

    /// `--config`, else the project's `reel.json` (see `Project`).
    var configFile: String { explicitConfigFile ?? Project.current.path("reel.json") }

    @Option(name: .customLong("price"), help: ArgumentHelp("A model's price per second of video, and with audio if it differs (overrides the config file).",
                                                            valueName: "model=rate[,audio-rate]"))
    var priceFlags: [String] = []

    func validate() throws { _ = try flagValues() }

    /// The prices in force, each with where it came from.
    func prices() async throws -> Prices {
        let flags = InMemoryProvider(name: "--price", values: try flagValues())
        var environment: [String: String] = [:]
        for (name, value) in ProcessInfo.processInfo.environment where name.hasPrefix("REEL_") && name != "REEL_API_KEY" {
            environment[String(name.dropFirst(5))] = value
        }
        let env = EnvironmentVariablesProvider(environmentVariables: environment)
        let file: FileProvider<JSONSnapshot>
        do {
            file = try await FileProvider<JSONSnapshot>(filePath: FilePath(configFile), allowMissing: true)
        } catch {
            throw ValidationError("cannot read \(configFile): \(error)")
        }
        let layers: [(String, ConfigReader)] = [("--price", ConfigReader(provider: flags)), ("environment", ConfigReader(provider: env)),
                                                (configFile, ConfigReader(provider: file))]
        var prices = Prices(currency: ConfigReader(providers: [flags, env, file]).string(forKey: "currency", default: "USD"))
        for model in Capabilities.models.map(\.name) {
            for (source, reader) in layers {
                guard let rate = reader.double(forKey: ConfigKey(["prices", model, "per_second"])) else { continue }
                guard rate >= 0 else { throw ValidationError("\(source): the price of \(model) must be 0 or more (got \(rate))") }
                let audio = reader.double(forKey: ConfigKey(["prices", model, "per_second_with_audio"]))
                prices.byModel[model] = Prices.Price(perSecond: rate, perSecondWithAudio: audio, source: source)
                break
            }
        }
        return prices
    }

    private func flagValues() throws -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for flag in priceFlags {
            let parts = flag.split(separator: "=", maxSplits: 1).map(String.init)
            let rates = parts.count == 2 ? parts[1].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) } : []
            guard parts.count == 2, Capabilities.model(named: parts[0]) != nil, (1...2).contains(rates.count), rates.allSatisfy({ $0 != nil && $0! >= 0 }) else {
                throw ValidationError("--price takes model=rate or model=rate,audio-rate with a known model, e.g. veo3.1-fast-video-720p=0.10,0.15 (got \(flag))")
            }
            values[AbsoluteConfigKey(["prices", parts[0], "per_second"])] = ConfigValue(.double(rates[0]!), isSecret: false)
            if rates.count == 2 {
                values[AbsoluteConfigKey(["prices", parts[0], "per_second_with_audio"])] = ConfigValue(.double(rates[1]!), isSecret: false)
            }
        }
        return values
    }
}
