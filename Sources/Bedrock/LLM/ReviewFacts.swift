import LLMCore

/// The facts of a review period for the review template (`LLMTask.review`), all computed by
/// Bedrock from the period's closed trades, never by the model. Pure: it reads the trades' stored
/// hashes (field → decimal text), oldest first. Numbers are written by `FactText`'s rules.
///
/// | placeholder | value |
/// |---|---|
/// | `start_date`, `end_date` | the period's days |
/// | `trade_count` | closed trades whose exit falls in the period |
/// | `win_rate` | % of them with pnl > 0 (`n/a` without trades) |
/// | `total_pnl` | Σ pnl (net of commissions), exact |
/// | `max_drawdown` | the largest fall, in % of the peak before it, of the equity curve that starts at the account's initial balance and adds each trade's pnl in exit order (`0.00` when it never falls) |
/// | `sharpe` | per-trade Sharpe ratio: mean / sample standard deviation of the per-trade returns pnl / (entry_price × size), × √n; `n/a` below 2 trades or when the returns do not vary |
/// | `trades` | one line per trade, oldest first and newest last, at most `maxTradeLines`, then `... and N more`; `none` without trades |
enum ReviewFacts {
    /// Most trade lines in a prompt.
    static let maxTradeLines = 200

    /// The template values for `period`, whose closed trades are `trades` (stored hashes, oldest
    /// first), on an account that started with `initialBalance` (ledger units, `Money`).
    /// `truncated`: older trades of the period were not read (the trades line says so).
    static func values(
        period: ReviewPeriod, trades: [[String: String]], initialBalance: Int64, truncated: Bool = false
    ) -> [String: String] {
        let pnl = trades.map { $0["pnl"].flatMap(Money.units) ?? 0 }
        let wins = pnl.filter { $0 > 0 }.count
        return [
            "start_date": period.start, "end_date": period.end, "trade_count": String(trades.count),
            "win_rate": trades.isEmpty ? FactText.notAvailable : FactText.fixed2(Double(wins) / Double(trades.count) * 100),
            "total_pnl": Money.text(units: pnl.reduce(0, +)),
            "max_drawdown": FactText.fixed2(maxDrawdownPercent(initialBalance: initialBalance, pnl: pnl)),
            "sharpe": sharpe(trades), "trades": lines(trades, truncated: truncated),
        ]
    }

    /// The largest peak-to-trough fall in % of the peak of initial + cumulative pnl (ledger
    /// units), the initial balance being the first peak; 0 when it never falls or no peak is
    /// positive.
    static func maxDrawdownPercent(initialBalance: Int64, pnl: [Int64]) -> Double {
        var equity = initialBalance, peak = initialBalance, worst = 0.0
        for amount in pnl {
            equity += amount
            peak = max(peak, equity)
            if peak > 0 { worst = max(worst, Double(peak - equity) / Double(peak) * 100) }
        }
        return worst
    }

    /// mean / sample standard deviation × √n of the per-trade returns; `n/a` when fewer than 2
    /// trades have a return or the returns do not vary.
    static func sharpe(_ trades: [[String: String]]) -> String {
        let returns = trades.compactMap { trade -> Double? in
            guard let pnl = trade["pnl"].flatMap(Double.init), let entry = trade["entry_price"].flatMap(Double.init),
                let size = trade["size"].flatMap(Double.init), entry * size != 0
            else { return nil }
            return pnl / (entry * size)
        }
        guard returns.count >= 2 else { return FactText.notAvailable }
        let n = Double(returns.count)
        let mean = returns.reduce(0, +) / n
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        guard variance > 1e-24 else { return FactText.notAvailable }
        return FactText.fixed2(mean / variance.squareRoot() * n.squareRoot())
    }

    /// One line per trade (`#id exit_time market side size S entry E exit X pnl P (reason)`),
    /// oldest first, at most `maxTradeLines`, then `... and N more`.
    static func lines(_ trades: [[String: String]], truncated: Bool) -> String {
        var out = trades.prefix(maxTradeLines).map { t in
            func f(_ name: String) -> String { t[name].flatMap { $0.isEmpty ? nil : $0 } ?? FactText.notAvailable }
            return "#\(f("id")) \(f("exit_time")) \(f("market")) \(f("side")) size \(f("size")) entry \(f("entry_price"))"
                + " exit \(f("exit_price")) pnl \(f("pnl")) (\(f("exit_reason")))"
        }
        if trades.count > maxTradeLines { out.append("... and \(trades.count - maxTradeLines) more") }
        if out.isEmpty { out.append("none") }
        if truncated { out.append(truncationNote) }
        return out.joined(separator: "\n")
    }

    /// The last trades line when the period's older trades were not read.
    static var truncationNote: String {
        "(only the newest \(ReviewTradeScan.maxTradesRead) trades of the ledger were read: older trades of this period are not included)"
    }
}
