/// Every metric of a backtest (SPEC §8), computed once from the closed trades and the equity
/// curve. Percentages are in percent (12.5 means 12.5 %); money is in the quote currency.
/// Optional values are undefined for this run (e.g. no losing trade, flat equity) and are
/// rendered as `null` in JSON.
public struct BacktestMetrics: Sendable, Equatable {
    /// Starting cash.
    public var initialBalance: Double
    /// Cash at the end, all positions closed: `initialBalance + Σ trade.pnl` unless the
    /// backtester supplied its own figure.
    public var finalBalance: Double
    /// `(finalBalance − initialBalance) / initialBalance × 100`.
    public var roi: Double
    /// Closed trades.
    public var totalTrades: Int
    /// Trades with net pnl > 0.
    public var winningTrades: Int
    /// Trades with net pnl < 0.
    public var losingTrades: Int
    /// `100 × winningTrades / totalTrades` (0 with no trades).
    public var winRate: Double
    /// Mean net pnl of winners (0 with none).
    public var avgWin: Double
    /// Mean net pnl of losers, negative (0 with none).
    public var avgLoss: Double
    /// Gross profit / gross loss, net of commission; `nil` with no losses.
    public var profitFactor: Double?
    /// Mean net pnl per trade.
    public var expectancy: Double
    /// Largest fall from a running equity peak, percent of the peak.
    public var maxDrawdown: Double
    /// Longest underwater stretch, in bars.
    public var maxDrawdownDurationBars: Int
    /// Longest underwater stretch, in milliseconds of bar time.
    public var maxDrawdownDurationMilliseconds: Int64
    /// Annualised Sharpe of per-bar returns (see `EquityStatistics.sharpe`).
    public var sharpeRatio: Double?
    /// Annualised Sortino of per-bar returns (see `EquityStatistics.sortino`).
    public var sortinoRatio: Double?
    /// Calmar: `annualizedReturn / maxDrawdown`, both in percent; `nil` with no drawdown.
    public var calmarRatio: Double?
    /// Omega at threshold 0 of per-bar returns (see `EquityStatistics.omega`).
    public var omegaRatio: Double?
    /// Compound annual growth rate of the equity curve over the calendar time it spans, in
    /// percent (see `EquityStatistics.annualizedReturn`).
    public var annualizedReturn: Double?
    /// Percent of bars with a position open (see `TradeStatistics.exposurePercent`).
    public var exposurePct: Double
    /// Σ commission over all fills.
    public var totalCommission: Double
    /// Σ slippage cost over all fills.
    public var totalSlippage: Double

    /// Computes every metric.
    /// - Parameters:
    ///   - trades: closed round trips (positions still open at the end must have been closed
    ///     `END_OF_DATA` by the backtester).
    ///   - times: bar open times (ms), ascending, one per equity point.
    ///   - equity: equity marked at each bar close.
    ///   - initialBalance: starting cash.
    ///   - finalBalance: the backtester's final cash; `nil` means `initialBalance + Σ pnl`.
    ///   - exposurePct: the backtester's own exposure (bars at whose close a position was open);
    ///     `nil` means `TradeStatistics.exposurePercent(trades, times:)`.
    public init(
        trades: [Trade], times: [Int64], equity: [Double], initialBalance: Double,
        finalBalance: Double? = nil, exposurePct: Double? = nil
    ) {
        var pnlSum = 0.0
        for t in trades { pnlSum += t.pnl }
        let final = finalBalance ?? (initialBalance + pnlSum)
        self.initialBalance = initialBalance
        self.finalBalance = final
        self.roi = initialBalance != 0 ? (final - initialBalance) / initialBalance * 100 : 0
        self.totalTrades = trades.count
        self.winningTrades = TradeStatistics.winning(trades)
        self.losingTrades = TradeStatistics.losing(trades)
        self.winRate = TradeStatistics.winRate(trades)
        self.avgWin = TradeStatistics.averageWin(trades)
        self.avgLoss = TradeStatistics.averageLoss(trades)
        self.profitFactor = TradeStatistics.profitFactor(trades)
        self.expectancy = TradeStatistics.expectancy(trades)
        let dd = EquityStatistics.drawdown(times: times, equity: equity)
        self.maxDrawdown = dd.maxPercent
        self.maxDrawdownDurationBars = dd.longestBars
        self.maxDrawdownDurationMilliseconds = dd.longestMilliseconds
        if let p = EquityStatistics.barsPerYear(times) {
            (sharpeRatio, sortinoRatio, omegaRatio) = EquityStatistics.returnRatios(equity: equity, barsPerYear: p)
        } else {
            sharpeRatio = nil
            sortinoRatio = nil
            omegaRatio = EquityStatistics.returnRatios(equity: equity, barsPerYear: 1).omega
        }
        annualizedReturn = EquityStatistics.annualizedReturn(times: times, equity: equity).map { $0 * 100 }
        if let ar = annualizedReturn, dd.maxPercent > 0 {
            calmarRatio = ar / dd.maxPercent
        } else {
            calmarRatio = nil
        }
        self.exposurePct = exposurePct ?? TradeStatistics.exposurePercent(trades, times: times)
        self.totalCommission = TradeStatistics.totalCommission(trades)
        self.totalSlippage = TradeStatistics.totalSlippage(trades)
    }
}
