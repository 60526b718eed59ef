/// Stable reason codes of the risk guard (SPEC §8). Raw values are the wire names.
public enum RiskReasonCode: String, Sendable, Codable, CaseIterable {
    /// As many positions are open as allowed.
    case maxOpenPositions = "MAX_OPEN_POSITIONS"
    /// The market already has an open position.
    case marketAlreadyOpen = "MARKET_ALREADY_OPEN"
    /// Open notional plus the new one would exceed the exposure limit.
    case maxExposure = "MAX_EXPOSURE"
    /// The entry's reward:risk is below the minimum.
    case minRewardRisk = "MIN_REWARD_RISK"
    /// Today's loss reached the daily limit.
    case dailyLossLimit = "DAILY_LOSS_LIMIT"
    /// Drawdown from peak equity reached the kill-switch limit.
    case maxDrawdownKillSwitch = "MAX_DRAWDOWN_KILL_SWITCH"
    /// The kill switch is engaged.
    case killSwitch = "KILL_SWITCH"
    /// Sizing produced nothing to buy (no weight and no stop, or no cash).
    case zeroSize = "ZERO_SIZE"
}

/// One refusal: the rule, a plain message and the numbers that tripped it.
public struct RiskReason: Sendable, Equatable, Codable {
    /// Stable code.
    public var code: RiskReasonCode
    /// Plain-words message.
    public var message: String
    /// The measured value (count, fraction or ratio).
    public var value: Double
    /// The limit it was compared against.
    public var limit: Double

    /// Creates a reason.
    public init(code: RiskReasonCode, message: String, value: Double, limit: Double) {
        self.code = code; self.message = message; self.value = value; self.limit = limit
    }
}

/// Allowed, or the list of reasons why not.
public struct RiskDecision: Sendable, Equatable {
    /// Every rule that refused (empty when allowed).
    public var reasons: [RiskReason]
    /// True when no rule refused.
    public var allowed: Bool { reasons.isEmpty }
}

/// The account and book as the risk guard sees them.
public struct RiskState: Sendable, Equatable {
    /// Positions open now.
    public var openPositions: Int
    /// Markets with an open position.
    public var openMarkets: Set<String>
    /// Σ notional of open positions (quote currency).
    public var exposure: Double
    /// Equity now.
    public var equity: Double
    /// Highest equity seen (since the last kill-switch reset).
    public var peakEquity: Double
    /// Equity at the start of the current UTC day.
    public var dayStartEquity: Double
    /// True while the kill switch is engaged (by an admin or by a past drawdown breach).
    public var killSwitchEngaged: Bool

    /// Creates a state; by default flat, with peak and day start equal to `equity`.
    public init(
        openPositions: Int = 0, openMarkets: Set<String> = [], exposure: Double = 0, equity: Double,
        peakEquity: Double? = nil, dayStartEquity: Double? = nil, killSwitchEngaged: Bool = false
    ) {
        self.openPositions = openPositions; self.openMarkets = openMarkets; self.exposure = exposure
        self.equity = equity; self.peakEquity = peakEquity ?? equity; self.dayStartEquity = dayStartEquity ?? equity
        self.killSwitchEngaged = killSwitchEngaged
    }
}

/// A proposed new entry.
public struct EntryProposal: Sendable, Equatable {
    /// Market name.
    public var market: String
    /// size × entry price.
    public var notional: Double
    /// Reward:risk of the entry (nil when it has no stop or no target: the rule does not apply).
    public var rewardRisk: Double?

    /// Creates a proposal.
    public init(market: String, notional: Double, rewardRisk: Double?) {
        self.market = market; self.notional = notional; self.rewardRisk = rewardRisk
    }
}

/// Risk checks as pure functions: never throws, always says why.
public enum RiskGuard {
    private static let tolerance = 1e-9

    /// Drawdown of `state` from its peak as a fraction (0 when the peak is not positive).
    public static func drawdown(_ state: RiskState) -> Double {
        state.peakEquity > 0 ? Swift.max(0, (state.peakEquity - state.equity) / state.peakEquity) : 0
    }

    /// Loss since the start of the UTC day as a fraction of the day's starting equity.
    public static func dailyLoss(_ state: RiskState) -> Double {
        state.dayStartEquity > 0 ? Swift.max(0, (state.dayStartEquity - state.equity) / state.dayStartEquity) : 0
    }

    /// Checks every rule and returns all that refuse `proposal`.
    public static func check(_ proposal: EntryProposal, state: RiskState, config: RiskConfig = .default) -> RiskDecision {
        var reasons: [RiskReason] = []
        if state.killSwitchEngaged {
            reasons.append(RiskReason(code: .killSwitch, message: "the kill switch is engaged", value: 1, limit: 0))
        }
        let dd = drawdown(state)
        if dd >= config.maxDrawdown - tolerance {
            reasons.append(
                RiskReason(
                    code: .maxDrawdownKillSwitch,
                    message: "drawdown \(pct(dd)) reached the kill-switch limit \(pct(config.maxDrawdown))",
                    value: dd, limit: config.maxDrawdown))
        }
        let loss = dailyLoss(state)
        if loss >= config.dailyLossLimit - tolerance {
            reasons.append(
                RiskReason(
                    code: .dailyLossLimit,
                    message:
                        "today's loss \(pct(loss)) reached the daily limit \(pct(config.dailyLossLimit)); no new entries until the next UTC day",
                    value: loss, limit: config.dailyLossLimit))
        }
        if state.openPositions >= config.maxOpenPositions {
            reasons.append(
                RiskReason(
                    code: .maxOpenPositions,
                    message: "\(state.openPositions) positions open, the limit is \(config.maxOpenPositions)",
                    value: Double(state.openPositions), limit: Double(config.maxOpenPositions)))
        }
        if state.openMarkets.contains(proposal.market) {
            reasons.append(
                RiskReason(
                    code: .marketAlreadyOpen,
                    message: "a position in \(proposal.market) is already open", value: 1, limit: 0))
        }
        let exposure = state.equity > 0 ? (state.exposure + proposal.notional) / state.equity : .infinity
        if exposure > config.maxExposure + tolerance {
            reasons.append(
                RiskReason(
                    code: .maxExposure,
                    message: "exposure would be \(pct(exposure)) of equity, the limit is \(pct(config.maxExposure))",
                    value: exposure, limit: config.maxExposure))
        }
        if let rr = proposal.rewardRisk, rr < config.minRewardRisk - tolerance {
            reasons.append(
                RiskReason(
                    code: .minRewardRisk,
                    message: "reward:risk \(num(rr)) is below the minimum \(num(config.minRewardRisk))",
                    value: rr, limit: config.minRewardRisk))
        }
        return RiskDecision(reasons: reasons)
    }

    static func pct(_ fraction: Double) -> String {
        fraction.isFinite ? num(fraction * 100) + " %" : "unbounded"
    }

    static func num(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return r == r.rounded() ? String(Int64(r)) : String(r)
    }
}
