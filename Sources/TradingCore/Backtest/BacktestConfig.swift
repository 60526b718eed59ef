/// Settings of one backtest run. Rates are fractions (0.001 = 0.1 %).
///
/// Equality compares every setting; two scorers count as equal when both are absent or both
/// present with the same `mlModel` name (a scorer has no equality of its own).
public struct BacktestConfig: Sendable, Equatable {
    /// Starting cash in quote currency.
    public var initialBalance: Double
    /// Commission rate charged on the notional of every fill.
    public var commissionRate: Double
    /// Slippage rate: every fill moves against the trader by `rate × price`.
    public var slippageRate: Double
    /// Sizing rules, as live.
    public var sizing: SizingConfig
    /// Risk limits applied to every entry, as live; `nil` disables the risk guard.
    public var risk: RiskConfig?
    /// The arbiter, as live: with no ML or LLM input in a backtest it weighs the rule score
    /// alone, and entries it rejects (`ARBITER_REJECTED`) are not taken. `nil` takes every entry.
    public var arbiter: ArbiterConfig?
    /// Market name used in risk checks (one market per backtest).
    public var market: String
    /// The progress closure is called every this many bars (≥ 1).
    public var progressInterval: Int
    /// An ML model scoring every entry signal: its probability × 100 is the arbiter's ML score
    /// (the default `ArbiterConfig` when `arbiter` is nil). Features come from a `FeatureTracker`
    /// fed every bar, as in datasets and live. `nil`: rules only.
    public var scorer: (any SignalScorer)?
    /// The scorer's name for reports (`name@version`, or the model file), nil without one.
    public var mlModel: String?

    /// Creates a configuration; defaults: 10 000 balance, 0.1 % commission, no slippage,
    /// default sizing and risk limits, progress every 16 384 bars.
    public init(
        initialBalance: Double = 10_000, commissionRate: Double = 0.001, slippageRate: Double = 0,
        sizing: SizingConfig = .default, risk: RiskConfig? = .default, arbiter: ArbiterConfig? = nil,
        market: String = "BACKTEST", progressInterval: Int = 16_384
    ) {
        self.initialBalance = initialBalance; self.commissionRate = commissionRate
        self.slippageRate = slippageRate; self.sizing = sizing; self.risk = risk; self.arbiter = arbiter
        self.market = market; self.progressInterval = progressInterval
    }

    /// Every setting equal; scorers compared by presence and `mlModel`.
    public static func == (a: BacktestConfig, b: BacktestConfig) -> Bool {
        a.initialBalance == b.initialBalance && a.commissionRate == b.commissionRate
            && a.slippageRate == b.slippageRate && a.sizing == b.sizing && a.risk == b.risk
            && a.arbiter == b.arbiter && a.market == b.market && a.progressInterval == b.progressInterval
            && (a.scorer == nil) == (b.scorer == nil) && a.mlModel == b.mlModel
    }

    /// The same settings without the ML model (the rules-only run of a comparison), judged by
    /// the same arbiter: the default one when a scored run had none (the engine gives a scorer
    /// one), so the comparison isolates the model.
    public var rulesOnly: BacktestConfig {
        var c = self
        if c.arbiter == nil && c.scorer != nil { c.arbiter = .default }
        c.scorer = nil
        c.mlModel = nil
        return c
    }
}
