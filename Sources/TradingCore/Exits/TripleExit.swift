/// A price at which a position leaves the market, before slippage, and why.
public struct ExitFill: Sendable, Equatable {
    /// Level or open price the exit fills at (slippage is applied by the caller).
    public var price: Double
    /// STOP_LOSS, TRAILING_STOP or PROFIT_TARGET.
    public var reason: ExitReason
}

/// The triple exit of SPEC §8: initial stop, trailing stop and profit target; the first touched wins.
///
/// - `check` looks at one bar. A bar that opens beyond the stop (or target) fills there at the open
///   (gap). Otherwise a bar that touches both the stop and the target fills the stop
///   (pessimistic: the path inside a bar is unknown).
/// - `closeBar` runs after the bar: it records the most favourable price since entry; once that
///   reached one risk unit R in favour, the trailing stop is armed and sits `trailDistance` behind
///   it (for a long: best high − distance). It only ever tightens and takes effect from the next bar.
/// - A stop hit after the trailing stop tightened past the initial stop reports TRAILING_STOP.
public struct TripleExit: Sendable, Equatable {
    /// Position side.
    public let side: Side
    /// Entry fill price (R is measured from it).
    public let entryPrice: Double
    /// Initial stop, nil for none.
    public let initialStop: Double?
    /// Profit target, nil for none.
    public let target: Double?
    /// Trailing distance in price (ATR × multiple); nil disables trailing.
    public let trailDistance: Double?
    /// Current protective stop (initial or tightened).
    public private(set) var stop: Double?
    /// True once the trailing stop has tightened the stop.
    public private(set) var isTrailing = false
    /// True once price moved one R in favour.
    public private(set) var isArmed = false
    /// Most favourable price since entry (highest high for longs, lowest low for shorts).
    public private(set) var bestPrice: Double

    /// Creates the exit rules of a new position.
    public init(side: Side, entryPrice: Double, stop: Double?, target: Double?, trailDistance: Double?) {
        self.side = side; self.entryPrice = entryPrice; self.initialStop = stop; self.stop = stop
        self.target = target; self.trailDistance = trailDistance; self.bestPrice = entryPrice
    }

    /// Risk unit R = |entry − initial stop| (0 without a stop).
    public var riskUnit: Double { initialStop.map { abs(entryPrice - $0) } ?? 0 }

    /// The exit this bar triggers, if any. For the entry bar of a stop entry filled inside the bar,
    /// pass the fill price as `open`.

    public func check(open: Double, high: Double, low: Double) -> ExitFill? {
        let stopReason: ExitReason = isTrailing ? .trailingStop : .stopLoss
        if side == .buy {
            if let s = stop, open <= s { return ExitFill(price: open, reason: stopReason) }
            if let t = target, open >= t { return ExitFill(price: open, reason: .profitTarget) }
            if let s = stop, low <= s { return ExitFill(price: s, reason: stopReason) }
            if let t = target, high >= t { return ExitFill(price: t, reason: .profitTarget) }
        } else {
            if let s = stop, open >= s { return ExitFill(price: open, reason: stopReason) }
            if let t = target, open <= t { return ExitFill(price: open, reason: .profitTarget) }
            if let s = stop, high >= s { return ExitFill(price: s, reason: stopReason) }
            if let t = target, low <= t { return ExitFill(price: t, reason: .profitTarget) }
        }
        return nil
    }

    /// Updates the trailing stop with a finished bar (effective from the next bar).
    public mutating func closeBar(high: Double, low: Double) {
        let r = riskUnit
        if side == .buy {
            bestPrice = Swift.max(bestPrice, high)
            if !isArmed && r > 0 && bestPrice - entryPrice >= r { isArmed = true }
            if isArmed, let d = trailDistance {
                let candidate = bestPrice - d
                if stop == nil || candidate > stop! { stop = candidate; isTrailing = true }
            }
        } else {
            bestPrice = Swift.min(bestPrice, low)
            if !isArmed && r > 0 && entryPrice - bestPrice >= r { isArmed = true }
            if isArmed, let d = trailDistance {
                let candidate = bestPrice + d
                if stop == nil || candidate < stop! { stop = candidate; isTrailing = true }
            }
        }
    }
}
