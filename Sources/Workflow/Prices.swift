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

    /// The planned cost of `request`, or nil when its model has no price.
    public func cost(of request: GenerationRequest) -> Double? {
        guard let price = byModel[request.model] else { return nil }
        let rate = request.extraBody.generateAudio == true ? (price.perSecondWithAudio ?? price.perSecond) : price.perSecond
        return rate * Double(request.plannedSeconds)
    }

    /// "1.20 USD".
    public func format(_ amount: Double) -> String {
        let cents = (amount * 100).rounded() / 100
        let whole = Int64(cents)
        let fraction = Int64(((cents - Double(whole)) * 100).rounded())
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction) \(currency)"
    }
}
