/// Backtest settings that a parameter search may range over beside the strategy's own
/// parameters: the arbiter's weights and threshold and the risk per trade. A parameter set
/// names them with these exact keys (`arbiter.rule_weight`, …, `risk_per_trade`), and
/// `BacktestConfig.applying(_:)` takes them out of the set and into the configuration.
///
/// | key | sets | valid (as the config file's `arbiter.*` / `ledger.risk_per_trade`) |
/// |---|---|---|
/// | `arbiter.rule_weight` | `ArbiterConfig.ruleWeight` | 0 < w ≤ 1 |
/// | `arbiter.ml_weight` | `ArbiterConfig.mlWeight` | 0 ≤ w ≤ 1 |
/// | `arbiter.llm_weight` | `ArbiterConfig.llmWeight` | 0 ≤ w ≤ 1 |
/// | `arbiter.threshold` | `ArbiterConfig.threshold` | 0 ≤ t ≤ 100 |
/// | `risk_per_trade` | fixed-risk sizing of every entry at this fraction of the balance | 0.0001 ≤ r ≤ 1 |
public enum SearchableSetting: String, Sendable, CaseIterable {
    case ruleWeight = "arbiter.rule_weight"
    case mlWeight = "arbiter.ml_weight"
    case llmWeight = "arbiter.llm_weight"
    case threshold = "arbiter.threshold"
    case riskPerTrade = "risk_per_trade"

    /// True for the `arbiter.*` keys, which need the arbiter to be on.
    public var needsArbiter: Bool { self != .riskPerTrade }

    /// Whether `value` is valid for this setting.
    public func isValid(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        switch self {
        case .ruleWeight: return value > 0 && value <= 1
        case .mlWeight, .llmWeight: return (0...1).contains(value)
        case .threshold: return (0...100).contains(value)
        case .riskPerTrade: return (0.0001...1).contains(value)
        }
    }

    /// The valid values in words, for error messages.
    public var validText: String {
        switch self {
        case .ruleWeight: return "a weight greater than 0 and at most 1 (the rule score is on every signal)"
        case .mlWeight, .llmWeight: return "a weight from 0 to 1"
        case .threshold: return "a combined score from 0 to 100"
        case .riskPerTrade: return "a fraction of the balance from 0.0001 to 1 (0.01 = 1 %)"
        }
    }
}

extension BacktestConfig {
    /// This configuration with the searchable settings found in `parameters` applied, and the
    /// strategy's own parameters (every other key). An `arbiter.*` key starts from this
    /// configuration's arbiter (the defaults when it has none); `risk_per_trade` sizes every
    /// entry by fixed risk at that fraction (`SizingConfig.useSuggestedWeight` off), so the value
    /// searched decides the sizes — an entry without a stop cannot be sized that way and is
    /// skipped, as with fixed-risk sizing anywhere.
    public func applying(_ parameters: [String: Double]) -> (config: BacktestConfig, strategy: [String: Double]) {
        var config = self
        var strategy = parameters
        for setting in SearchableSetting.allCases {
            guard let value = strategy.removeValue(forKey: setting.rawValue) else { continue }
            if setting.needsArbiter && config.arbiter == nil { config.arbiter = .default }
            switch setting {
            case .ruleWeight: config.arbiter?.ruleWeight = value
            case .mlWeight: config.arbiter?.mlWeight = value
            case .llmWeight: config.arbiter?.llmWeight = value
            case .threshold: config.arbiter?.threshold = value
            case .riskPerTrade: config.sizing = SizingConfig(riskPerTrade: value, useSuggestedWeight: false)
            }
        }
        return (config, strategy)
    }
}
