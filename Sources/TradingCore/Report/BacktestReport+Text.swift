/// The readable text rendering of a report, for a terminal.
extension BacktestReport {
    /// A readable multi-line summary: what ran, then the metrics with units, then up to
    /// `maxTrades` trades (the most recent ones are elided beyond that). Undefined metrics print
    /// as `n/a`.
    public func text(maxTrades: Int = 20) -> String {
        let m = metrics
        var lines = [String]()
        let params = sortedParameters.map { "\($0.name)=\(TextFormat.plain($0.value))" }
        lines.append("Backtest: \(strategyName)" + (params.isEmpty ? "" : " (" + params.joined(separator: ", ") + ")"))
        lines.append(
            "Period:   \(RFC3339.format(milliseconds: startTime)) → \(RFC3339.format(milliseconds: endTime)) (\(equity.count) bars)"
        )
        lines.append("")
        let rows: [(String, String)] = [
            ("Initial balance", TextFormat.fixed(m.initialBalance, 2)),
            ("Final balance", TextFormat.fixed(m.finalBalance, 2)),
            ("ROI", TextFormat.fixed(m.roi, 2) + " %"),
            ("Annualised return", TextFormat.optional(m.annualizedReturn, 2, unit: " %")),
            ("Trades", "\(m.totalTrades) (\(m.winningTrades) won, \(m.losingTrades) lost)"),
            ("Win rate", TextFormat.fixed(m.winRate, 2) + " %"),
            ("Average win", TextFormat.fixed(m.avgWin, 2)),
            ("Average loss", TextFormat.fixed(m.avgLoss, 2)),
            ("Profit factor", TextFormat.optional(m.profitFactor, 3)),
            ("Expectancy", TextFormat.fixed(m.expectancy, 2)),
            (
                "Max drawdown",
                TextFormat.fixed(m.maxDrawdown, 2) + " % (longest \(m.maxDrawdownDurationBars) bars, "
                    + TextFormat.duration(m.maxDrawdownDurationMilliseconds) + ")"
            ),
            ("Sharpe ratio", TextFormat.optional(m.sharpeRatio, 3)),
            ("Sortino ratio", TextFormat.optional(m.sortinoRatio, 3)),
            ("Calmar ratio", TextFormat.optional(m.calmarRatio, 3)),
            ("Omega ratio", TextFormat.optional(m.omegaRatio, 3)),
            ("Exposure", TextFormat.fixed(m.exposurePct, 2) + " %"),
            ("Total commission", TextFormat.fixed(m.totalCommission, 2)),
            ("Total slippage", TextFormat.fixed(m.totalSlippage, 2)),
        ]
        for (k, v) in rows { lines.append(TextFormat.padRight(k, 19) + v) }
        if signalsGenerated > 0 || !rejectedSignals.isEmpty {
            let refused = rejectedSignals.values.reduce(0, +)
            var line = TextFormat.padRight("Entry signals", 19) + "\(signalsGenerated), \(refused) refused"
            if refused > 0 {
                line +=
                    " ("
                    + rejectedSignals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    .joined(separator: ", ") + ")"
            }
            lines.append(line)
        }
        if let mlModel {
            lines.append(TextFormat.padRight("ML model", 19) + "\(mlModel), \(scoredSignals) signals scored")
        }
        if let rules = compare["rules_only"] {
            let r = rules.metrics
            lines.append(
                TextFormat.padRight("Rules only", 19) + "ROI \(TextFormat.fixed(r.roi, 2)) %, \(r.totalTrades) trades, "
                    + "win rate \(TextFormat.fixed(r.winRate, 2)) %, Sharpe \(TextFormat.optional(r.sharpeRatio, 3)), "
                    + "max drawdown \(TextFormat.fixed(r.maxDrawdown, 2)) %")
        }
        if !trades.isEmpty {
            lines.append("")
            lines.append("Trades:")
            lines.append(
                ["entry_time", "exit_time", "side", "entry", "exit", "size", "pnl", "exit_reason"]
                    .enumerated().map { TextFormat.padRight($1, [21, 21, 5, 13, 13, 13, 13, 0][$0]) }
                    .joined())
            let shown = trades.suffix(maxTrades)
            if shown.count < trades.count {
                lines.append("... \(trades.count - shown.count) earlier trades not shown (use --format csv) ...")
            }
            for t in shown {
                lines.append(
                    TextFormat.padRight(RFC3339.format(milliseconds: t.entryTime), 21)
                        + TextFormat.padRight(RFC3339.format(milliseconds: t.exitTime), 21)
                        + TextFormat.padRight(t.side.rawValue, 5)
                        + TextFormat.padRight(TextFormat.significant(t.entryPrice), 13)
                        + TextFormat.padRight(TextFormat.significant(t.exitPrice), 13)
                        + TextFormat.padRight(TextFormat.significant(t.size), 13)
                        + TextFormat.padRight(TextFormat.fixed(t.pnl, 2), 13)
                        + t.exitReason.rawValue)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Number formatting for text output, without Foundation.
public enum TextFormat {
    /// `v` with exactly `digits` decimals, rounded half away from zero; `n/a` when not finite.
    public static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "n/a" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(v) * scale).rounded()
        guard scaled < 9e18 else { return v.description }
        let n = UInt64(scaled)
        let sign = v < 0 && n != 0 ? "-" : ""
        let intPart = n / UInt64(scale)
        guard digits > 0 else { return sign + String(intPart) }
        let frac = String(n % UInt64(scale))
        return sign + String(intPart) + "." + String(repeating: "0", count: digits - frac.count) + frac
    }

    /// `fixed` for a present value, `n/a` for `nil`.
    public static func optional(_ v: Double?, _ digits: Int, unit: String = "") -> String {
        guard let v, v.isFinite else { return "n/a" }
        return fixed(v, digits) + unit
    }

    /// Integers without a fraction (`20`), other values in shortest form (`0.5`).
    /// Non-finite values print as `null`, as in JSON.
    public static func plain(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v.rounded() == v, abs(v) < 1e15 { return String(Int64(v)) }
        return v.description
    }

    /// About six significant digits, for prices and sizes of any magnitude.
    public static func significant(_ v: Double) -> String {
        guard v.isFinite, v != 0 else { return v.isFinite ? "0" : "n/a" }
        var digits = 5
        var a = abs(v)
        while a >= 10 && digits > 0 { a /= 10; digits -= 1 }
        return fixed(v, max(digits, 0))
    }

    /// A duration in milliseconds as days/hours (`3d 4h`) or minutes for short spans.
    public static func duration(_ ms: Int64) -> String {
        let minutes = ms / 60_000
        if minutes < 60 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 24 { return "\(hours)h" }
        return "\(hours / 24)d \(hours % 24)h"
    }

    /// `s` padded with spaces to `width` (unchanged when longer; a space is added after it).
    public static func padRight(_ s: String, _ width: Int) -> String {
        guard width > 0 else { return s }
        return s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}
