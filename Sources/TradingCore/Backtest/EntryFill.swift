/// The backtester's fill rules (SPEC §8), shared by `Backtester` and `SignalDataset` so a
/// dataset's labels come from the very trades the backtester would take.
enum EntryFill {
    /// The price (before slippage) at which an entry decided on the previous close fills on `bar`,
    /// nil when it does not fill. A market order fills at the open. A buy stop fills at the open
    /// when the bar opens at or above its level, at the level when the high reaches it; a sell stop
    /// mirrors that; a stop the bar never reaches is cancelled.
    static func basePrice(_ signal: EntrySignal, on bar: Bar) -> Double? {
        switch signal.order {
        case .market:
            return bar.open
        case .stop(let level):
            if signal.side == .buy {
                if bar.open >= level { return bar.open }
                return bar.high >= level ? level : nil
            }
            if bar.open <= level { return bar.open }
            return bar.low <= level ? level : nil
        }
    }
}

extension BacktestConfig {
    /// `price` moved against the trader by the slippage rate: buys fill higher, sells lower.
    func slipped(_ price: Double, buying: Bool) -> Double {
        buying ? price * (1 + slippageRate) : price * (1 - slippageRate)
    }

    /// The size of an entry at `price` with risk unit `riskUnit`, from `cash`, as the sizing rules
    /// say (the suggested weight of the rule score, or fixed risk).
    func positionSize(_ signal: EntrySignal, price: Double, riskUnit: Double?, cash: Double) -> PositionSizing {
        let weight = sizing.useSuggestedWeight ? WeightBands.weight(forScore: signal.score) : nil
        return Sizing.size(
            balance: cash, available: cash, entryPrice: price, riskUnit: riskUnit, weight: weight,
            riskPerTrade: sizing.riskPerTrade, commissionRate: commissionRate)
    }

    /// The trailing distance of a signal's position (ATR × multiple), nil without one.
    static func trailDistance(_ signal: EntrySignal) -> Double? {
        signal.atr.flatMap { a in signal.trailingATRMultiple.map { a * $0 } }
    }
}
