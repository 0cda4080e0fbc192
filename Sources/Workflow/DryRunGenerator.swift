import Foundation
import Synchronization
import VideoAPI

/// Validates and records requests without sending anything; every call returns a `Video`
/// with a placeholder id and URL so that whole chains (generate → extend → extend) run.
public final class DryRunGenerator: VideoGenerator, Sendable {
    private struct Record {
        var requests: [GenerationRequest] = []
        var saves: [String] = []
        var media: [MediaStep] = []
    }
    private let record = Mutex(Record())
    private let order: SubmissionOrder

    /// The run's cap: a dry run refuses what the real run would, so `reel check --max-seconds`
    /// finds the call that would pass it.
    let budget: Budget

    /// `orderPatience`: how long a call waits for the one before it (SubmissionOrder).
    public init(budget: Budget = Budget(), orderPatience: Duration = .milliseconds(500)) {
        self.budget = budget
        order = SubmissionOrder(patience: orderPatience)
    }

    /// The requests in the order the script made them.
    public var requests: [GenerationRequest] { record.withLock { $0.requests } }
    /// The paths `:save()` would have written.
    public var savedPaths: [String] { record.withLock { $0.saves } }
    /// Everything the script asked for, as the plan prints it.
    public var plan: Plan { Plan(requests: requests, savedPaths: savedPaths, mediaSteps: mediaSteps) }

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
        try budget.reserve(request)
        let n = record.withLock {
            $0.requests.append(request)
            return $0.requests.count
        }
        let id = "dry-run-\(n)"
        return GeneratedVideo(id: id, url: "https://dry-run.invalid/videos/\(id).mp4", status: "dry_run", request: request)
    }

    public func save(_ video: GeneratedVideo, to path: String) async throws -> String {
        record.withLock { $0.saves.append(path) }
        return path
    }

    public func info(_ video: GeneratedVideo) async throws -> [(String, JSONValue)] {
        [("id", .string(video.id)), ("status", .string(video.status)), ("url", video.url.map(JSONValue.string) ?? .null)]
    }
}

/// The dry run's report: each request as JSON, then seconds of video per model.
public struct Plan: Sendable {
    public let requests: [GenerationRequest]
    public let savedPaths: [String]
    public let mediaSteps: [MediaStep]

    public init(requests: [GenerationRequest], savedPaths: [String] = [], mediaSteps: [MediaStep] = []) {
        self.requests = requests
        self.savedPaths = savedPaths
        self.mediaSteps = mediaSteps
    }

    public var totalSeconds: Int64 { requests.reduce(0) { $0 + $1.plannedSeconds } }

    /// The plan's cost in `prices`; nil when a model in it has no price.
    public func totalCost(_ prices: Prices) -> Double? { total(prices).cost }

    /// The plan's seconds and cost in `prices`.
    public func total(_ prices: Prices) -> Prices.Amount {
        var total = Prices.Amount()
        for r in requests { total.add(r.plannedSeconds, prices.cost(of: r)) }
        return total
    }

    /// The plan as text; with `prices`, each model's line and the total carry the estimated cost.
    public func rendered(prices: Prices = Prices()) -> String {
        var out = "Plan: \(requests.count) request\(requests.count == 1 ? "" : "s") (dry run: nothing was sent)\n"
        for (i, request) in requests.enumerated() {
            out += "\n#\(i + 1) \(request.mode.luaFunction)\n"
            out += request.body().pretty() + "\n"
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
        let width = max(24, byModel.keys.map(\.count).max() ?? 0)
        func money(_ cost: Double?) -> String {
            prices.isEmpty ? "" : "  " + (cost.map(prices.format) ?? "no price").leftPadded(12)
        }
        for model in Capabilities.models.map(\.name) where byModel[model] != nil {
            let entry = byModel[model]!
            out += "  \(model.padding(toLength: width, withPad: " ", startingAt: 0))  \(String(entry.count).leftPadded(4)) request\(entry.count == 1 ? " " : "s")  \(String(entry.amount.seconds).leftPadded(5)) s\(money(entry.amount.cost))\n"
        }
        let total = totalCost(prices)
        out += "  \("total".padding(toLength: width, withPad: " ", startingAt: 0))  \(String(requests.count).leftPadded(4)) request\(requests.count == 1 ? " " : "s")  \(String(totalSeconds).leftPadded(5)) s\(money(total))\n"
        if !prices.isEmpty && total == nil {
            out += "  (a model without a price makes the total unknown; set its price in reel.json or with --price)\n"
        }
        if requests.contains(where: { $0.duration == nil }) {
            out += "  (without 'duration': \(Capabilities.assumedDefaultDuration) s, upstream's default; an extension adds about \(Capabilities.extensionAddsSeconds) s)\n"
        }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
