/// The answer of `positions.estimate` (SPEC §4).
public struct PositionEstimate: Sendable, Equatable {
    /// `estimated_position_size`, base units.
    public var estimatedPositionSize: Double
    /// `estimated_cost` = size × entry × (1 + commission rate).
    public var estimatedCost: Double
    /// `risk_percentage` = size × R / balance × 100 (what the stop would cost, in % of balance).
    public var riskPercentage: Double
    /// `position_weight_used` (nil for fixed-risk sizing).
    public var positionWeightUsed: Double?
    /// `allowed`: the risk guard lets it through and the size is positive.
    public var allowed: Bool
    /// `reasons`: why not (empty when allowed).
    public var reasons: [RiskReason]
}

/// Balances the estimate needs.
public struct AccountSnapshot: Sendable, Equatable {
    /// Account balance (cash, realized).
    public var balance: Double
    /// Balance not frozen by open positions or orders.
    public var availableBalance: Double

    /// Creates a snapshot.
    public init(balance: Double, availableBalance: Double) {
        self.balance = balance; self.availableBalance = availableBalance
    }
}

/// Position estimates: sizing plus the risk guard, as pure functions.
public enum Estimator {
    /// Estimates the position for an entry at `entryPrice` with stop `stopLossPrice`. Uses
    /// weight-based sizing when `suggestedWeight` is given (and `sizing.useSuggestedWeight`), else
    /// fixed risk; caps by the available balance; then asks the risk guard.
    public static func estimate(
        market: String, entryPrice: Double, stopLossPrice: Double,
        profitTargetPrice: Double? = nil, suggestedWeight: Double? = nil,
        account: AccountSnapshot, riskState: RiskState,
        sizing: SizingConfig = .default, risk: RiskConfig = .default,
        commissionRate: Double
    ) -> PositionEstimate {
        let r = abs(entryPrice - stopLossPrice)
        let weight = sizing.useSuggestedWeight ? suggestedWeight : nil
        let sized = Sizing.size(
            balance: account.balance, available: account.availableBalance, entryPrice: entryPrice,
            riskUnit: r, weight: weight, riskPerTrade: sizing.riskPerTrade,
            commissionRate: commissionRate)
        let rewardRisk = profitTargetPrice.flatMap { r > 0 ? abs($0 - entryPrice) / r : nil }
        var decision = RiskGuard.check(
            EntryProposal(
                market: market, notional: sized.size * entryPrice,
                rewardRisk: rewardRisk),
            state: riskState, config: risk)
        if sized.size <= 0 {
            decision.reasons.append(
                RiskReason(
                    code: .zeroSize,
                    message: r > 0
                        ? "no balance available for this entry" : "the stop equals the entry price, so the risk unit is zero",
                    value: 0, limit: 0))
        }
        return PositionEstimate(
            estimatedPositionSize: sized.size,
            estimatedCost: sized.size * entryPrice * (1 + commissionRate),
            riskPercentage: account.balance > 0 ? sized.size * r / account.balance * 100 : 0,
            positionWeightUsed: sized.positionWeightUsed,
            allowed: decision.allowed, reasons: decision.reasons)
    }
}
