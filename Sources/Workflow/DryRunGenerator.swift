import Foundation
import Support
import Synchronization
import VideoAPI

/// Validates and records requests without sending anything; every call returns a `Video`
/// with a placeholder id and URL so that whole chains (generate → extend → extend) run.
public final class DryRunGenerator: VideoGenerator, Sendable {
    private struct Record {
        var requests: [GenerationRequest] = []
        var held: Set<Int> = []
        var refused: [Plan.Refusal] = []
        var saves: [String] = []
        var media: [MediaStep] = []
    }
    private let record = Mutex(Record())
    private let order: SubmissionOrder

    /// The run's cap: a dry run refuses what the real run would, so `reel check --max-seconds`
    /// finds the call that would pass it.
    let budget: Budget
    /// What the journal holds: those requests are free (reused or picked up), as in a live
    /// run, so they reserve nothing; nil: the plan assumes every request is generated.
    let holdings: JournalHoldings?

    /// `orderPatience`: how long a call waits for the one before it (SubmissionOrder).
    public init(budget: Budget = Budget(), holdings: JournalHoldings? = nil, orderPatience: Duration = .milliseconds(500)) {
        self.budget = budget
        self.holdings = holdings
        order = SubmissionOrder(patience: orderPatience)
    }

    /// The requests in the order the script made them (those the budget refused left out).
    public var requests: [GenerationRequest] { record.withLock { $0.requests } }
    /// The paths `:save()` would have written.
    public var savedPaths: [String] { record.withLock { $0.saves } }
    /// Everything the script asked for, as the plan prints it.
    public var plan: Plan {
        record.withLock { Plan(requests: $0.requests, held: $0.held, refused: $0.refused, savedPaths: $0.saves, mediaSteps: $0.media) }
    }

    /// The media steps, in the order the script asked for them.
    public var mediaSteps: [MediaStep] { record.withLock { $0.media } }

    /// A stand-in that carries through: an Image's or a film's place, named by its step, with
    /// the length the step would give when its inputs' lengths are known.
    public func media(_ step: MediaStep) async throws -> MediaOutput {
        let n = record.withLock {
            $0.media.append(step)
            return $0.media.count
        }
        let name = "\(step.function)-\(n).\(step.makesImage ? "png" : "mp4")"
        return MediaOutput(step: step, path: nil, placeholder: "https://dry-run.invalid/media/\(name)", duration: step.expectedDuration)
    }

    public func generate(_ request: GenerationRequest, options: GenerationOptions) async throws -> GeneratedVideo {
        // In the script's order, as a live run claims them: the plan's order and the
        // placeholder ids do not depend on which of a map's parallel calls arrives first.
        let claimed = await order.waitForTurn(of: options)
        defer { claimed.send() }
        let holding = holdings?.look(request, options: options)
        let held = holding?.held ?? false
        if !held {
            do {
                try budget.reserve(request)
            } catch {
                record.withLock { $0.refused.append(Plan.Refusal(request: request, callSite: options.callSite, message: error.message)) }
                throw error
            }
        }
        let n = record.withLock {
            $0.requests.append(request)
            if held { $0.held.insert($0.requests.count - 1) }
            return $0.requests.count
        }
        let id = "dry-run-\(n)"
        // The journal key, as a live run's Video carries it: a chain's next request is keyed by it.
        return GeneratedVideo(id: id, url: "https://dry-run.invalid/videos/\(id).mp4", status: .dryRun, request: request,
                              journalKey: holding?.key)
    }

    public func save(_ video: GeneratedVideo, to path: String) async throws -> String {
        record.withLock { $0.saves.append(path) }
        return path
    }

    public func info(_ video: GeneratedVideo) async throws -> [(String, JSONValue)] {
        [("id", .string(video.id)), ("status", .string(video.status.rawValue)), ("url", video.url.map(JSONValue.string) ?? .null)]
    }
}

/// The dry run's report: each request as JSON, then seconds of video per model; what the
/// journal holds (free) apart from what is to be generated, and what the budget refuses.
public struct Plan: Sendable {
    /// A call the run's budget refuses (it would raise a `budget` error there too).
    public struct Refusal: Sendable {
        public let request: GenerationRequest
        public let callSite: String?
        public let message: String
    }

    public let requests: [GenerationRequest]
    /// Indices of `requests` the journal holds: reused or picked up, not paid again.
    public let held: Set<Int>
    public let refused: [Refusal]
    public let savedPaths: [String]
    public let mediaSteps: [MediaStep]

    public init(requests: [GenerationRequest], held: Set<Int> = [], refused: [Refusal] = [], savedPaths: [String] = [],
                mediaSteps: [MediaStep] = []) {
        self.requests = requests
        self.held = held
        self.refused = refused
        self.savedPaths = savedPaths
        self.mediaSteps = mediaSteps
    }

    public var totalSeconds: Int64 { requests.reduce(0) { $0 + $1.plannedSeconds } }

    /// The requests to be generated (and paid for): those the journal does not hold.
    public var toGenerate: [GenerationRequest] { requests.indices.filter { !held.contains($0) }.map { requests[$0] } }

    /// The plan's cost in `prices`; nil when a model in it has no price.
    public func totalCost(_ prices: Prices) -> Double? { total(prices).cost }

    /// The plan's seconds and cost in `prices`, held requests included.
    public func total(_ prices: Prices) -> Prices.Amount { Self.amount(requests, prices) }

    /// What the requests to be generated come to: what a run of this plan spends.
    public func totalToGenerate(_ prices: Prices) -> Prices.Amount { Self.amount(toGenerate, prices) }

    static func amount(_ requests: [GenerationRequest], _ prices: Prices) -> Prices.Amount {
        var total = Prices.Amount()
        for r in requests { total.add(r.plannedSeconds, prices.cost(of: r)) }
        return total
    }

    /// "2 refused by the budget (s.lua:5, s.lua:6)"; nil when the budget refuses nothing.
    public var refusedSummary: String? {
        guard !refused.isEmpty else { return nil }
        var places: [String] = []
        for place in refused.compactMap(\.callSite) where !places.contains(place) { places.append(place) }
        return "\(refused.count) refused by the budget\(places.isEmpty ? "" : " (\(places.joined(separator: ", ")))")"
    }

    /// The plan as text; with `prices`, each model's line and the total carry the estimated cost.
    public func rendered(prices: Prices = Prices()) -> String {
        var out = "Plan: \(requests.count) request\(requests.count == 1 ? "" : "s") (dry run: nothing was sent)\n"
        for (i, request) in requests.enumerated() {
            out += "\n#\(i + 1) \(request.mode.luaFunction)\(held.contains(i) ? " (held by the journal: reused, free)" : "")\n"
            out += request.body().pretty() + "\n"
        }
        if !refused.isEmpty {
            out += "\nRefused by the budget (not sent; the call raises a 'budget' error):\n"
                + refused.map { "  \($0.callSite.map { $0 + ": " } ?? "")\($0.request.mode.luaFunction): \($0.message)\n" }.joined()
        }
        if !mediaSteps.isEmpty {
            out += "\nMedia steps (ffmpeg on this machine, nothing billed):\n"
                + mediaSteps.enumerated().map { "  m\($0.offset + 1) \($0.element.summary)\n" }.joined()
        }
        if !savedPaths.isEmpty {
            out += "\nWould save:\n" + savedPaths.map { "  \($0)\n" }.joined()
        }
        out += "\nSeconds of video by model:\n"
        var byModel: [String: (count: Int, amount: Prices.Amount)] = [:]
        for r in requests {
            var entry = byModel[r.model] ?? (0, Prices.Amount())
            entry.count += 1
            entry.amount.add(r.plannedSeconds, prices.cost(of: r))
            byModel[r.model] = entry
        }
        let width = max(28, byModel.keys.map(\.count).max() ?? 0)
        func money(_ cost: Double?) -> String {
            prices.isEmpty ? "" : "  " + (cost.map(prices.format) ?? "no price").leftPadded(12)
        }
        func line(_ name: String, _ count: Int, _ amount: Prices.Amount) -> String {
            "  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(String(count).leftPadded(4)) request\(count == 1 ? " " : "s")  \(String(amount.seconds).leftPadded(5)) s\(money(amount.cost))\n"
        }
        for model in Capabilities.models.map(\.name) where byModel[model] != nil {
            out += line(model, byModel[model]!.count, byModel[model]!.amount)
        }
        let total = total(prices)
        out += line("total", requests.count, total)
        if !held.isEmpty {
            out += line("held by the journal (free)", held.count, Self.amount(requests.indices.filter(held.contains).map { requests[$0] }, prices))
            out += line("to generate", requests.count - held.count, totalToGenerate(prices))
        }
        if !prices.isEmpty && total.cost == nil {
            out += "  (a model without a price makes the total unknown; set its price in reel.json or with --price)\n"
        }
        if requests.contains(where: { $0.duration == nil && $0.mode != .extend }) {
            out += "  (without 'duration': \(Capabilities.assumedDefaultDuration) s, upstream's default)\n"
        }
        if requests.contains(where: { $0.mode == .extend }) {
            out += "  (an extension counts as \(Capabilities.extensionAddsSeconds) s: upstream adds \(Capabilities.extensionAddsSeconds) s to its source whatever 'duration' says)\n"
        }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
