import TradingCore

extension GatewayConfig {
    /// Reads `arbiter.*` (SPEC §8/§11): `rule_weight` (default 0.5, 0 < w ≤ 1), `ml_weight`
    /// (0.3) and `llm_weight` (0.2) (0 ≤ w ≤ 1), `threshold` (60, 0-100). The rule score is on
    /// every signal, so its weight must be positive; the arbiter divides by the weights of the
    /// inputs present, so they need not sum to 1.
    static func loadArbiter(_ raw: RawConfig) throws(ConfigError) -> ArbiterConfig {
        let d = ArbiterConfig.default
        let rule = try raw.double("arbiter.rule_weight", default: d.ruleWeight, 0...1)
        if rule == 0 {
            throw ConfigError(
                key: "arbiter.rule_weight", message: "must be greater than 0 (the rule score is on every signal)",
                source: raw.source(of: "arbiter.rule_weight"))
        }
        return ArbiterConfig(
            ruleWeight: rule,
            mlWeight: try raw.double("arbiter.ml_weight", default: d.mlWeight, 0...1),
            llmWeight: try raw.double("arbiter.llm_weight", default: d.llmWeight, 0...1),
            threshold: try raw.double("arbiter.threshold", default: d.threshold, 0...100))
    }
}
