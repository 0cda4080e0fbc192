import ArgumentParser
import Foundation
import VideoAPI

/// `--model`, declared once for `run`, `check` and `repl`, with the one check every source of
/// the default model gets.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The model when a call and defaults{} name none (else REEL_MODEL, else \(Capabilities.defaultModelName)).", valueName: "name"))
    var model: String?

    func validate() throws { _ = try resolved() }

    /// --model, else REEL_MODEL, else the built-in default. An unknown name is a usage error
    /// with the suggestion a call's `model = …` gets (same tier, same resolution).
    func resolved() throws -> String {
        let (name, origin) = model.map { ($0, "--model") }
            ?? ProcessInfo.processInfo.environment["REEL_MODEL"].map { ($0, "REEL_MODEL") }
            ?? (Capabilities.defaultModelName, "default")
        guard Capabilities.model(named: name) != nil else {
            let hint = Capabilities.suggestion(forModel: name).map { " (did you mean '\($0)'?)" } ?? ""
            throw ValidationError("\(origin): unknown model '\(name)'\(hint); `reel models` lists them")
        }
        return name
    }
}
