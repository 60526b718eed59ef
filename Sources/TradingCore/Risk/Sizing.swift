/// Outcome of a sizing calculation.
public struct PositionSizing: Sendable, Equatable {
    /// Units of the base asset (0 when nothing can be bought).
    public var size: Double
    /// The weight used (`nil` for fixed-risk sizing): SPEC `position_weight_used`.
    public var positionWeightUsed: Double?
    /// True when the available-balance cap reduced the size.
    public var capped: Bool
}

/// Position sizing as pure functions (SPEC §8 "Sizing").
public enum Sizing {
    /// Weight-based size: `balance × weight / entryPrice`.
    public static func weightedSize(balance: Double, weight: Double, entryPrice: Double) -> Double {
        guard entryPrice > 0, balance > 0, weight > 0 else { return 0 }
        return balance * weight / entryPrice
    }

    /// Fixed-risk size: `balance × riskPerTrade / riskUnit` (0 when R ≤ 0).
    public static func fixedRiskSize(balance: Double, riskPerTrade: Double, riskUnit: Double) -> Double {
        guard riskUnit > 0, balance > 0, riskPerTrade > 0 else { return 0 }
        return balance * riskPerTrade / riskUnit
    }

    /// Largest size the available balance pays for, commission included:
    /// `available / (price × (1 + commissionRate))`.
    public static func maxAffordableSize(available: Double, price: Double, commissionRate: Double) -> Double {
        guard price > 0, available > 0 else { return 0 }
        return available / (price * (1 + commissionRate))
    }

    /// Full sizing: weight-based when `weight` is given, else fixed risk on `riskUnit`; then capped
    /// by what `available` can pay for at `entryPrice`.
    public static func size(
        balance: Double, available: Double, entryPrice: Double, riskUnit: Double?,
        weight: Double?, riskPerTrade: Double = 0.01, commissionRate: Double
    ) -> PositionSizing {
        let wanted: Double
        if let weight {
            wanted = weightedSize(balance: balance, weight: weight, entryPrice: entryPrice)
        } else {
            wanted = fixedRiskSize(balance: balance, riskPerTrade: riskPerTrade, riskUnit: riskUnit ?? 0)
        }
        let cap = maxAffordableSize(available: available, price: entryPrice, commissionRate: commissionRate)
        return PositionSizing(size: Swift.min(wanted, cap), positionWeightUsed: weight, capped: cap < wanted)
    }
}
