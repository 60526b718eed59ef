import JSONCodec
import TradingCore

/// Reading a stored backtest report (SPEC §8 JSON, as `backtest.report` answers it).
extension BacktestDocument {
    /// The stored report is not a backtest report this can draw.
    public struct Unreadable: Error, CustomStringConvertible {
        /// What is wrong with it.
        public var description: String
    }

    /// The document of a stored backtest report. `curve`, when given, is a denser equity series
    /// (`[[time, equity], ...]`, the same shape as the report's `equity_curve`) drawn instead of
    /// the report's; `context` lines (task, market) open the subtitle.
    public init(report: JSONValue, curve: JSONValue? = nil, context: [String] = []) throws {
        guard let r = report.objectValue else { throw Unreadable(description: "the report is not a JSON object") }
        guard let tradeValues = r["trades"]?.arrayValue else { throw Unreadable(description: "the report has no trades") }
        let strategy = r["strategy_name"]?.stringValue ?? "backtest"
        var subtitle = context
        if let start = r["start_date"]?.stringValue.flatMap(UTCTime.parse),
            let end = r["end_date"]?.stringValue.flatMap(UTCTime.parse)
        {
            subtitle.append("Period: \(UTCTime.minute(start)) to \(UTCTime.minute(end)) UTC")
        }
        if let params = r["parameters"]?.objectValue, params.count > 0 {
            let text = params.members.map { "\($0.key) = \(Self.plainText($0.value))" }.joined(separator: ", ")
            subtitle.append("Parameters: " + text)
        }
        let trades = try tradeValues.map(Self.trade)
        let points = try Self.points(curve ?? r["equity_curve"] ?? .array([]))
        self.init(
            title: "Backtest report: \(strategy)", subtitle: subtitle, metrics: Self.metricRows(r), equity: points,
            maxDrawdown: r["max_drawdown"]?.doubleValue, trades: trades)
    }

    /// `[[time, equity], ...]` as points in time order.
    static func points(_ value: JSONValue) throws -> [Point] {
        guard let items = value.arrayValue else { throw Unreadable(description: "the equity curve is not an array") }
        var out: [Point] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let pair = item.arrayValue, pair.count == 2, let t = pair[0].stringValue.flatMap(UTCTime.parse),
                let v = pair[1].doubleValue
            else { throw Unreadable(description: "an equity point is not [time, equity]") }
            out.append(Point(time: t, equity: v))
        }
        return out
    }

    static func trade(_ value: JSONValue) throws -> TradeRow {
        guard let t = value.objectValue, let entry = t["entry_time"]?.stringValue.flatMap(UTCTime.parse),
            let exit = t["exit_time"]?.stringValue.flatMap(UTCTime.parse)
        else { throw Unreadable(description: "a trade has no entry or exit time") }
        let number = { (key: String) in t[key]?.doubleValue ?? .nan }
        return TradeRow(
            entryTime: entry, exitTime: exit, side: t["side"]?.stringValue ?? "", entryPrice: number("entry_price"),
            exitPrice: number("exit_price"), size: number("size"), pnl: number("pnl"),
            commission: number("commission"), exitReason: t["exit_reason"]?.stringValue ?? "")
    }

    /// How each summary metric is shown: report key, label, decimals, unit (nil decimals: an integer).
    static let metricFormats: [(key: String, label: String, decimals: Int?, unit: String)] = [
        ("initial_balance", "Initial balance", 2, ""),
        ("final_balance", "Final balance", 2, ""),
        ("roi", "Return on investment", 2, " %"),
        ("annualized_return", "Annualised return", 2, " %"),
        ("total_trades", "Trades", nil, ""),
        ("winning_trades", "Winning trades", nil, ""),
        ("losing_trades", "Losing trades", nil, ""),
        ("win_rate", "Win rate", 2, " %"),
        ("avg_win", "Average win", 2, ""),
        ("avg_loss", "Average loss", 2, ""),
        ("profit_factor", "Profit factor", 3, ""),
        ("expectancy", "Expectancy per trade", 2, ""),
        ("max_drawdown", "Max drawdown", 2, " %"),
        ("max_drawdown_duration_bars", "Longest drawdown", nil, " bars"),
        ("sharpe_ratio", "Sharpe ratio", 3, ""),
        ("sortino_ratio", "Sortino ratio", 3, ""),
        ("calmar_ratio", "Calmar ratio", 3, ""),
        ("omega_ratio", "Omega ratio", 3, ""),
        ("exposure_pct", "Time in market", 2, " %"),
        ("total_commission", "Total commission", 2, ""),
        ("total_slippage", "Total slippage", 2, ""),
        ("signals_generated", "Entry signals", nil, ""),
    ]

    /// One readable row per metric the report holds (absent ones are left out, null ones say
    /// `n/a`), then the refused signals by reason, the ML model and the rules-only comparison.
    static func metricRows(_ r: JSONObject) -> [(label: String, value: String)] {
        var rows: [(label: String, value: String)] = []
        for f in metricFormats {
            guard let value = r[f.key] else { continue }
            rows.append((f.label, format(value, decimals: f.decimals, unit: f.unit)))
        }
        if let refused = r["rejected_signals"]?.objectValue, refused.count > 0 {
            let total = refused.members.reduce(Int64(0)) { $0 + ($1.value.intValue ?? 0) }
            rows.append(("Signals refused", "\(total)"))
            for (code, count) in refused.members {
                rows.append(("Refused: " + BacktestDocument.readable(code).lowercased(), format(count, decimals: nil, unit: "")))
            }
        }
        if let model = r["ml_model"]?.stringValue {
            rows.append(("ML model", model))
            if let scored = r["scored_signals"] { rows.append(("Signals scored", format(scored, decimals: nil, unit: ""))) }
        }
        if let rules = r["compare"]?.objectValue?["rules_only"]?.objectValue {
            rows.append(("Rules only: return", format(rules["roi"] ?? .null, decimals: 2, unit: " %")))
            rows.append(("Rules only: trades", format(rules["total_trades"] ?? .null, decimals: nil, unit: "")))
        }
        return rows
    }

    /// A metric's text: fixed decimals (or a whole number) plus the unit; `n/a` when null.
    static func format(_ value: JSONValue, decimals: Int?, unit: String) -> String {
        guard let v = value.doubleValue, v.isFinite else { return "n/a" }
        guard let decimals else { return TextFormat.plain(v.rounded()) + unit }
        return TextFormat.fixed(v, decimals) + unit
    }

    static func plainText(_ value: JSONValue) -> String {
        if let s = value.stringValue { return s }
        if let v = value.doubleValue { return TextFormat.plain(v) }
        return JSONCodec.encodeString(value)
    }
}
