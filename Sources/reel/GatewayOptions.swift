import ArgumentParser
import Foundation

/// `--base-url`, declared once for every command that talks to a gateway (`run`, `repl`, `task`).
struct GatewayOptions: ParsableArguments {
    @Option(name: .customLong("base-url"), help: ArgumentHelp("The gateway (overrides REEL_BASE_URL), without /v1.", valueName: "url"))
    var baseURL: String?

    /// --base-url, else REEL_BASE_URL, with what named it; nil when neither names one (an
    /// empty --base-url names none, so it overrides REEL_BASE_URL with nothing).
    var named: (url: String, source: String)? {
        if let baseURL { return baseURL.isEmpty ? nil : (baseURL, "--base-url") }
        if let url = ProcessInfo.processInfo.environment["REEL_BASE_URL"], !url.isEmpty { return (url, "REEL_BASE_URL") }
        return nil
    }
}
