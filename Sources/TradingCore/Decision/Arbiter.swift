/// LLM sentiment about a market (SPEC §8). Raw values are the wire names.
public enum LLMSentiment: String, Sendable, Codable, CaseIterable {
    /// Good for buyers.
    case positive = "POSITIVE"
    /// Neither.
    case neutral = "NEUTRAL"
    /// Good for sellers.
    case negative = "NEGATIVE"

    /// Score 0–100 in favour of a trade on `side`: POSITIVE 100, NEUTRAL 50, NEGATIVE 0 for buys,
    /// mirrored (POSITIVE 0, NEGATIVE 100) for sells.
    public func score(for side: Side) -> Double {
        switch self {
        case .neutral: return 50
        case .positive: return side == .buy ? 100 : 0
        case .negative: return side == .buy ? 0 : 100
        }
    }
}

/// Final word on a signal. Raw values are the wire names.
public enum FinalDecision: String, Sendable, Codable {
    /// Combined score reached the threshold.
    case approved = "APPROVED"
    /// Combined score below the threshold.
    case rejected = "REJECTED"
}

/// Arbiter weights and threshold. Weights need not sum to 1: the mean is over the inputs present.
public struct ArbiterConfig: Sendable, Equatable, Codable {
    /// Weight of the rule-engine score.
    public var ruleWeight: Double
    /// Weight of the ML confidence score.
    public var mlWeight: Double
    /// Weight of the LLM sentiment.
    public var llmWeight: Double
    /// Combined score (0–100) at or above which a signal is approved.
    public var threshold: Double

    /// Defaults: rule 0.5, ML 0.3, LLM 0.2, threshold 60.
    public init(ruleWeight: Double = 0.5, mlWeight: Double = 0.3, llmWeight: Double = 0.2, threshold: Double = 60) {
        self.ruleWeight = ruleWeight; self.mlWeight = mlWeight; self.llmWeight = llmWeight; self.threshold = threshold
    }

    /// The defaults.
    public static let `default` = ArbiterConfig()
}

/// The arbiter's verdict on one signal.
public struct ArbiterVerdict: Sendable, Equatable {
    /// APPROVED or REJECTED.
    public var decision: FinalDecision
    /// Weighted mean (0–100) of the inputs present.
    public var combinedScore: Double
    /// Plain-words reason, e.g. "approved: combined score 72.5 (rule 80 × 0.5, ML 60 × 0.3) reaches threshold 60".
    public var explanation: String
}

/// Combines rule score, ML score and LLM sentiment into APPROVED/REJECTED (SPEC §8).
public enum Arbiter {
    /// Weighted mean of the inputs present (rule score always; ML score and sentiment when given),
    /// approved when it reaches `config.threshold`. Scores are clamped to 0...100.
    public static func decide(
        ruleScore: Double, mlScore: Double? = nil, sentiment: LLMSentiment? = nil,
        side: Side, config: ArbiterConfig = .default
    ) -> ArbiterVerdict {
        var weighted = 0.0, totalWeight = 0.0
        var parts: [String] = []
        func add(_ label: String, _ value: Double, _ weight: Double) {
            let v = Swift.min(Swift.max(value.isNaN ? 0 : value, 0), 100)
            guard weight > 0 else { return }
            weighted += v * weight
            totalWeight += weight
            parts.append("\(label) \(format(v)) × \(format(weight))")
        }
        add("rule", ruleScore, config.ruleWeight)
        if let mlScore { add("ML", mlScore, config.mlWeight) }
        if let sentiment {
            add("LLM \(sentiment.rawValue) for a \(side == .buy ? "buy" : "sell")", sentiment.score(for: side), config.llmWeight)
        }
        let combined = totalWeight > 0 ? weighted / totalWeight : 0
        let approved = totalWeight > 0 && combined >= config.threshold
        var missing: [String] = []
        if mlScore == nil { missing.append("ML score") }
        if sentiment == nil { missing.append("LLM sentiment") }
        var text =
            approved
            ? "approved: combined score \(format(combined)) reaches the threshold \(format(config.threshold))"
            : "rejected: combined score \(format(combined)) is below the threshold \(format(config.threshold))"
        text += parts.isEmpty ? " (no weighted inputs)" : " (weighted mean of " + parts.joined(separator: ", ") + ")"
        if !missing.isEmpty { text += "; not available: " + missing.joined(separator: ", ") }
        return ArbiterVerdict(decision: approved ? .approved : .rejected, combinedScore: combined, explanation: text)
    }

    private static func format(_ x: Double) -> String {
        let rounded = (x * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
}
