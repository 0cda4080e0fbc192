import Support
import VideoAPI

/// What a second of video costs per model, as the user set it (reel ships no prices: without
/// them it counts seconds, and money is not shown).
public struct Prices: Sendable {
    public struct Price: Sendable, Equatable {
        public var perSecond: Double
        /// When audio costs more (`generate_audio = true`); nil: the same rate.
        public var perSecondWithAudio: Double?
        /// Where it came from: the config file, the environment, or `--price`.
        public var source: String

        public init(perSecond: Double, perSecondWithAudio: Double?, source: String) {
            self.perSecond = perSecond
            self.perSecondWithAudio = perSecondWithAudio
            self.source = source
        }
    }

    public var currency: String
    public var byModel: [String: Price]

    public init(currency: String = "USD", byModel: [String: Price] = [:]) {
        self.currency = currency
        self.byModel = byModel
    }

    public var isEmpty: Bool { byModel.isEmpty }

    /// Seconds of video and their cost, added up take by take: the cost becomes unknown (nil)
    /// as soon as one take's model has no price.
    public struct Amount: Sendable, Equatable {
        public var seconds: Int64 = 0
        public var cost: Double? = 0

        public init() {}

        public mutating func add(_ seconds: Int64, _ cost: Double?) {
            self.seconds += seconds
            self.cost = self.cost.flatMap { total in cost.map { total + $0 } }
        }
    }

    /// The planned cost of `request`, or nil when its model has no price.
    public func cost(of request: GenerationRequest) -> Double? {
        cost(model: request.model, seconds: request.plannedSeconds, audio: request.extraBody.generateAudio == true)
    }

    /// What `seconds` of `model`'s video cost, with audio or without; nil without a price.
    public func cost(model: String, seconds: Int64, audio: Bool) -> Double? {
        guard let price = byModel[model] else { return nil }
        return (audio ? (price.perSecondWithAudio ?? price.perSecond) : price.perSecond) * Double(seconds)
    }

    /// The cost of a journaled take: its counted seconds, with audio if it asked for it.
    public func cost(of task: TaskRecord, seconds: Int64) -> Double? {
        cost(model: task.model, seconds: seconds, audio: task.generationRequest?.extraBody.generateAudio == true)
    }

    /// "1.20 USD".
    public func format(_ amount: Double) -> String {
        let cents = (amount * 100).rounded() / 100
        let whole = Int64(cents)
        let fraction = Int64(((cents - Double(whole)) * 100).rounded())
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction) \(currency)"
    }
}

extension TaskRecord {
    /// The seconds a journaled take counts as in the ledger (`Capabilities.countedSeconds`):
    /// as recorded, except that an extension counts what upstream adds to its source, also
    /// for rows journaled before reel counted it so.
    public var countedSeconds: Int64 {
        GenerationMode(rawValue: mode) == .extend ? Capabilities.countedSeconds(mode: .extend, duration: seconds) : seconds
    }
}
