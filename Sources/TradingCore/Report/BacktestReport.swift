import JSONCodec

/// The report of one backtest (SPEC §8): what ran, on which bars, every metric, the trades and
/// the equity curve. Render it with `json()`, `text()` or `csv()`; rank by any metric with
/// `metric(named:)`.
public struct BacktestReport: Sendable, Equatable {
    /// Strategy registry name, e.g. `sma_cross`.
    public var strategyName: String
    /// Open time (ms) of the first bar tested.
    public var startTime: Int64
    /// Open time (ms) of the last bar tested.
    public var endTime: Int64
    /// The strategy parameters used, by name.
    public var parameters: [String: Double]
    /// Every metric.
    public var metrics: BacktestMetrics
    /// Closed trades in the order they closed.
    public var trades: [Trade]
    /// Bar open times (ms) of the equity curve.
    public var equityTimes: [Int64]
    /// Equity marked at each bar close.
    public var equity: [Double]
    /// Entry signals the strategy emitted (0 when not known).
    public var signalsGenerated: Int = 0
    /// Entry signals refused by sizing or the risk guard, by reason code.
    public var rejectedSignals: [String: Int] = [:]
    /// The ML model that scored the entry signals (`name@version` or a model file), nil for rules only.
    public var mlModel: String?
    /// Entry signals the ML model scored.
    public var scoredSignals: Int = 0
    /// Runs reported beside this one, by name: `rules_only` is the same backtest without the model.
    public var compare: [String: BacktestReport] = [:]

    /// A report from its parts. Metrics are computed here from `trades` and the equity curve.
    /// - Parameters:
    ///   - finalBalance: the backtester's final cash, or `nil` for `initialBalance + Σ pnl`.
    ///   - exposurePct: the backtester's exposure, or `nil` to derive it from the trades.
    public init(
        strategyName: String, parameters: [String: Double], initialBalance: Double,
        finalBalance: Double? = nil, trades: [Trade], equityTimes: [Int64],
        equity: [Double], exposurePct: Double? = nil
    ) {
        self.strategyName = strategyName
        self.parameters = parameters
        self.trades = trades
        self.equityTimes = equityTimes
        self.equity = equity
        self.startTime = equityTimes.first ?? 0
        self.endTime = equityTimes.last ?? 0
        self.metrics = BacktestMetrics(
            trades: trades, times: equityTimes, equity: equity,
            initialBalance: initialBalance, finalBalance: finalBalance,
            exposurePct: exposurePct)
    }

    /// The same report without its trades and equity curve (what the optimiser keeps per run).
    public var summary: BacktestReport {
        var s = self
        s.trades = []
        s.equityTimes = []
        s.equity = []
        s.compare = compare.mapValues(\.summary)
        return s
    }
}

extension BacktestReport {
    /// Parameters sorted by name, for stable rendering.
    public var sortedParameters: [(name: String, value: Double)] {
        parameters.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    /// The metric fields of the report in SPEC §8 order, as `(report name, JSON value)`.
    /// Used by the JSON rendering and the optimiser's output.
    public var metricFields: [(String, JSONValue)] {
        let m = metrics
        return [
            ("initial_balance", .plain(m.initialBalance)),
            ("final_balance", .plain(m.finalBalance)),
            ("total_trades", .int(Int64(m.totalTrades))),
            ("winning_trades", .int(Int64(m.winningTrades))),
            ("losing_trades", .int(Int64(m.losingTrades))),
            ("win_rate", .plain(m.winRate)),
            ("avg_win", .plain(m.avgWin)),
            ("avg_loss", .plain(m.avgLoss)),
            ("profit_factor", .plain(m.profitFactor)),
            ("expectancy", .plain(m.expectancy)),
            ("max_drawdown", .plain(m.maxDrawdown)),
            ("max_drawdown_duration_bars", .int(Int64(m.maxDrawdownDurationBars))),
            ("sharpe_ratio", .plain(m.sharpeRatio)),
            ("sortino_ratio", .plain(m.sortinoRatio)),
            ("calmar_ratio", .plain(m.calmarRatio)),
            ("omega_ratio", .plain(m.omegaRatio)),
            ("annualized_return", .plain(m.annualizedReturn)),
            ("total_commission", .plain(m.totalCommission)),
            ("total_slippage", .plain(m.totalSlippage)),
            ("roi", .plain(m.roi)),
            ("exposure_pct", .plain(m.exposurePct)),
        ]
    }
}
