/// Statistics of closed trades (SPEC §8), as pure functions. Every `Trade.pnl` is net of the
/// commission of both legs, so every figure here is net of commission too.
public enum TradeStatistics {
    /// Trades with net pnl > 0.
    public static func winning(_ trades: [Trade]) -> Int {
        var n = 0
        for t in trades where t.pnl > 0 { n += 1 }
        return n
    }

    /// Trades with net pnl < 0. A trade with pnl exactly 0 is neither winning nor losing.
    public static func losing(_ trades: [Trade]) -> Int {
        var n = 0
        for t in trades where t.pnl < 0 { n += 1 }
        return n
    }

    /// Win rate in percent: `100 × winning / total`; 0 with no trades.
    public static func winRate(_ trades: [Trade]) -> Double {
        guard !trades.isEmpty else { return 0 }
        return 100 * Double(winning(trades)) / Double(trades.count)
    }

    /// Mean net pnl of the winning trades; 0 with none.
    public static func averageWin(_ trades: [Trade]) -> Double {
        var sum = 0.0, n = 0
        for t in trades where t.pnl > 0 { sum += t.pnl; n += 1 }
        return n == 0 ? 0 : sum / Double(n)
    }

    /// Mean net pnl of the losing trades (a negative number); 0 with none.
    public static func averageLoss(_ trades: [Trade]) -> Double {
        var sum = 0.0, n = 0
        for t in trades where t.pnl < 0 { sum += t.pnl; n += 1 }
        return n == 0 ? 0 : sum / Double(n)
    }

    /// Gross profit / gross loss: `Σ pnl of winners / |Σ pnl of losers|`; `nil` with no losing
    /// trade (SPEC §8: null with no losses).
    public static func profitFactor(_ trades: [Trade]) -> Double? {
        var gains = 0.0, losses = 0.0
        for t in trades {
            if t.pnl > 0 { gains += t.pnl } else if t.pnl < 0 { losses -= t.pnl }
        }
        guard losses > 0 else { return nil }
        return gains / losses
    }

    /// Expectancy: mean net pnl per closed trade, `Σ pnl / total` (equivalently
    /// `winRate × avgWin + lossRate × avgLoss`); 0 with no trades.
    public static func expectancy(_ trades: [Trade]) -> Double {
        guard !trades.isEmpty else { return 0 }
        var sum = 0.0
        for t in trades { sum += t.pnl }
        return sum / Double(trades.count)
    }

    /// Σ commission over every fill of every trade.
    public static func totalCommission(_ trades: [Trade]) -> Double {
        var sum = 0.0
        for t in trades { sum += t.commission }
        return sum
    }

    /// Σ slippage cost (quote currency) over every fill of every trade.
    public static func totalSlippage(_ trades: [Trade]) -> Double {
        var sum = 0.0
        for t in trades { sum += t.slippage }
        return sum
    }

    /// Exposure in percent of bars: `100 × (bars with a position open) / (all bars)`.
    ///
    /// A bar at time `t` counts as exposed when some trade has `entryTime ≤ t < exitTime`, i.e.
    /// from the bar the entry filled in up to, not including, the bar the exit filled in; a trade
    /// closed `END_OF_DATA` (at the last close) also counts its exit bar. Overlapping trades
    /// count a bar once. 0 with no bars.
    public static func exposurePercent(_ trades: [Trade], times: [Int64]) -> Double {
        guard !times.isEmpty else { return 0 }
        var exposed = [Bool](repeating: false, count: times.count)
        for t in trades {
            var i = firstIndex(atOrAfter: t.entryTime, in: times)
            while i < times.count {
                let bt = times[i]
                let inside = bt < t.exitTime || (t.exitReason == .endOfData && bt == t.exitTime)
                if !inside { break }
                exposed[i] = true
                i += 1
            }
        }
        var n = 0
        for e in exposed where e { n += 1 }
        return 100 * Double(n) / Double(times.count)
    }

    /// Binary search: index of the first time ≥ `t` (times ascending).
    static func firstIndex(atOrAfter t: Int64, in times: [Int64]) -> Int {
        var lo = 0, hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
