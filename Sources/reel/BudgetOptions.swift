import ArgumentParser
import Workflow

/// A session's caps on what it submits, and the prices they count in: shared by `run`,
/// `check` and `repl`, whose generations all reserve against the one `Budget` made here
/// (`budget{}` in Lua lowers the same one).
struct BudgetOptions: ParsableArguments {
    @Option(name: .customLong("max-seconds"), help: ArgumentHelp("Submit at most this many seconds of video in this run (reused takes are free); a call past it raises a 'budget' error.", valueName: "n"))
    var maxSeconds: Int64?

    @Option(name: .customLong("max-cost"), help: ArgumentHelp("Submit at most this much money's worth in this run, by the prices set (reel.json, --price); a call past it, or one whose model has no price, raises a 'budget' error.", valueName: "amount"))
    var maxCost: Double?

    @OptionGroup(title: "Prices") var pricing: PriceOptions

    func validate() throws {
        if let maxCost, !(maxCost >= 0) { throw ValidationError("--max-cost must be 0 or more (got \(maxCost))") }
        if let maxSeconds, maxSeconds < 0 { throw ValidationError("--max-seconds must be 0 or more (got \(maxSeconds))") }
    }

    /// The caps with the prices they are counted in. `showsMoney`: prices are shown (in the
    /// plan, the live view, the summary); without that, and without --max-cost or --price,
    /// they are not needed and the config is not read.
    func budget(showsMoney: Bool) async throws -> Budget {
        var prices = Prices()
        do {
            if showsMoney || maxCost != nil || !pricing.priceFlags.isEmpty { prices = try await pricing.prices() }
        } catch {
            printError("reel: \(error)")
            throw ExitCode(ReelExit.usage)
        }
        if maxCost != nil && prices.isEmpty {
            printError("reel: --max-cost needs prices, and none are set (reel.json, REEL_PRICES_…, or --price model=rate); --max-seconds caps seconds without them")
            throw ExitCode(ReelExit.usage)
        }
        return Budget(maxSeconds: maxSeconds, maxCost: maxCost, prices: prices)
    }
}
