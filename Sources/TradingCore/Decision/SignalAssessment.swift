/// What the gateway attaches to a strategy's entry signal before publishing it (SPEC §8 Signal):
/// the suggested position weight from the weight bands and the arbiter's verdict.
public struct SignalAssessment: Sendable, Equatable {
    /// `suggested_position_weight` from the rule score.
    public var suggestedPositionWeight: Double
    /// `final_decision`, combined score and `explanation`.
    public var verdict: ArbiterVerdict

    /// Assesses `signal` with the optional ML score (0–100) and LLM sentiment.
    public static func assess(
        _ signal: EntrySignal, mlScore: Double? = nil, sentiment: LLMSentiment? = nil,
        arbiter: ArbiterConfig = .default
    ) -> SignalAssessment {
        SignalAssessment(
            suggestedPositionWeight: WeightBands.weight(forScore: signal.score),
            verdict: Arbiter.decide(
                ruleScore: signal.score, mlScore: mlScore, sentiment: sentiment,
                side: signal.side, config: arbiter))
    }
}
