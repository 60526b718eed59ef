/// Looking a metric up by its report name, for ranking (`--metric NAME`).
extension BacktestReport {
    /// A metric name that is not in `BacktestReport.metricNames`.
    public struct UnknownMetric: Error, CustomStringConvertible, Sendable {
        /// The name asked for.
        public var name: String
        /// The error for `name`.
        public init(name: String) { self.name = name }
        /// Human-readable message listing the valid names.
        public var description: String {
            "unknown metric '\(name)'; valid metrics: "
                + BacktestReport.metricNames.joined(separator: ", ")
        }
    }

    /// Every rankable metric name (the JSON keys of the numeric report fields).
    public static let metricNames: [String] = [
        "roi", "final_balance", "total_trades", "winning_trades", "losing_trades", "win_rate",
        "avg_win", "avg_loss", "profit_factor", "expectancy", "max_drawdown",
        "max_drawdown_duration_bars", "sharpe_ratio", "sortino_ratio", "calmar_ratio",
        "omega_ratio", "annualized_return", "exposure_pct", "total_commission", "total_slippage",
    ]

    /// Metrics where a lower value is better; for every other metric higher is better.
    public static let lowerIsBetter: Set<String> = [
        "max_drawdown", "max_drawdown_duration_bars", "total_commission", "total_slippage",
    ]

    /// Throws `UnknownMetric` (listing the valid names) unless `name` is a metric name.
    public static func validateMetric(_ name: String) throws {
        guard metricNames.contains(name) else { throw UnknownMetric(name: name) }
    }

    /// The value of the metric called `name` (a `metricNames` entry); `nil` when the metric is
    /// undefined for this run (e.g. `profit_factor` with no losing trade).
    /// - Throws: `UnknownMetric` for any other name.
    public func metric(named name: String) throws -> Double? {
        let m = metrics
        switch name {
        case "roi": return m.roi
        case "final_balance": return m.finalBalance
        case "total_trades": return Double(m.totalTrades)
        case "winning_trades": return Double(m.winningTrades)
        case "losing_trades": return Double(m.losingTrades)
        case "win_rate": return m.winRate
        case "avg_win": return m.avgWin
        case "avg_loss": return m.avgLoss
        case "profit_factor": return m.profitFactor
        case "expectancy": return m.expectancy
        case "max_drawdown": return m.maxDrawdown
        case "max_drawdown_duration_bars": return Double(m.maxDrawdownDurationBars)
        case "sharpe_ratio": return m.sharpeRatio
        case "sortino_ratio": return m.sortinoRatio
        case "calmar_ratio": return m.calmarRatio
        case "omega_ratio": return m.omegaRatio
        case "annualized_return": return m.annualizedReturn
        case "exposure_pct": return m.exposurePct
        case "total_commission": return m.totalCommission
        case "total_slippage": return m.totalSlippage
        default: throw UnknownMetric(name: name)
        }
    }
}
