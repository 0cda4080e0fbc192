import VideoAPI

/// What tells a take from the others, wherever one is shown (the live view, a Lua Video's
/// `label`, the REPL, the gallery's cards).
public enum TakeLabel {
    /// `s.lua:4 "a lighthouse at d…" seed 7`: the call's line, the prompt's start, the seed.
    public static func make(_ request: GenerationRequest, callSite: String?) -> String {
        make(prompt: request.prompt, seed: request.extraBody.seed.map(String.init), callSite: callSite)
    }

    /// The same label from a journaled take's parts (the gallery's cards).
    public static func make(prompt: String, seed: String?, callSite: String?) -> String {
        // Counted only as far as needed, and the file name cut without NSString: made for every
        // generation, even with --quiet (the Lua Video carries it).
        let long = prompt.utf8.count > 24 && prompt.index(prompt.startIndex, offsetBy: 25, limitedBy: prompt.endIndex) != nil
        let short = long ? String(prompt.prefix(23)) + "…" : prompt
        var label = ""
        if let callSite { label = String(callSite[(callSite.lastIndex(of: "/").map(callSite.index(after:)) ?? callSite.startIndex)...]) + " " }
        label += "\"" + short + "\""
        if let seed { label += " seed " + seed }
        return label
    }
}
