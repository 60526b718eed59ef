/// Limits the risk guard enforces (SPEC §8). Fractions are 0...1 (0.05 = 5 %).
public struct RiskConfig: Sendable, Equatable, Codable {
    /// Most positions open at once across all markets.
    public var maxOpenPositions: Int
    /// Largest total notional of open positions, as a fraction of equity (1.0 = 100 %).
    public var maxExposure: Double
    /// Smallest reward:risk an entry with a stop and a target may have.
    public var minRewardRisk: Double
    /// Loss since the start of the UTC day, as a fraction of that day's starting equity, that
    /// blocks new entries until the next UTC day.
    public var dailyLossLimit: Double
    /// Drawdown from peak equity, as a fraction of the peak, that trips the kill switch
    /// (no new entries until an admin resets it; in a backtest, for the rest of the run).
    public var maxDrawdown: Double

    /// Creates a risk configuration; every argument has the documented default.
    public init(
        maxOpenPositions: Int = 5, maxExposure: Double = 1.0, minRewardRisk: Double = 1.5,
        dailyLossLimit: Double = 0.05, maxDrawdown: Double = 0.25
    ) {
        self.maxOpenPositions = maxOpenPositions; self.maxExposure = maxExposure
        self.minRewardRisk = minRewardRisk; self.dailyLossLimit = dailyLossLimit
        self.maxDrawdown = maxDrawdown
    }

    /// The defaults: 5 positions, 100 % exposure, reward:risk 1.5, 5 % daily loss, 25 % drawdown.
    public static let `default` = RiskConfig()
}

/// How position sizes are computed (SPEC §8 "Sizing").
public struct SizingConfig: Sendable, Equatable, Codable {
    /// Fraction of the balance risked per trade when no position weight is given (0.01 = 1 %).
    public var riskPerTrade: Double
    /// When true, a signal's suggested position weight (from its rule score) is used for sizing;
    /// when false, every entry uses fixed-risk sizing (entries without a stop are then skipped).
    public var useSuggestedWeight: Bool

    /// Creates a sizing configuration.
    public init(riskPerTrade: Double = 0.01, useSuggestedWeight: Bool = true) {
        self.riskPerTrade = riskPerTrade
        self.useSuggestedWeight = useSuggestedWeight
    }

    /// 1 % fixed risk; suggested weights used when present.
    public static let `default` = SizingConfig()
}

/// All trading settings the gateway needs in one value, with the documented defaults.
public struct TradingConfig: Sendable, Equatable {
    /// Sizing rules.
    public var sizing: SizingConfig
    /// Risk limits.
    public var risk: RiskConfig
    /// Arbiter weights and threshold.
    public var arbiter: ArbiterConfig
    /// Commission rate per fill (0.001 = 0.1 %).
    public var commissionRate: Double

    /// Creates a configuration; every argument has its default.
    public init(
        sizing: SizingConfig = .default, risk: RiskConfig = .default, arbiter: ArbiterConfig = .default,
        commissionRate: Double = 0.001
    ) {
        self.sizing = sizing; self.risk = risk; self.arbiter = arbiter; self.commissionRate = commissionRate
    }
}
