/// Building a report from the backtester's result.
extension BacktestReport {
    /// The report of a finished backtest: its trades and equity curve, the backtester's final
    /// balance and exposure (bars at whose close a position was open), every other metric
    /// computed by `BacktestMetrics`.
    public init(_ result: BacktestResult) {
        self.init(
            strategyName: result.strategyName, parameters: result.parameters,
            initialBalance: result.initialBalance, finalBalance: result.finalBalance,
            trades: result.trades, equityTimes: result.equityTimes, equity: result.equityValues,
            exposurePct: result.exposurePct)
        signalsGenerated = result.signalsGenerated
        rejectedSignals = result.rejectedSignals
        mlModel = result.config.mlModel
        scoredSignals = result.scoredSignals
        if result.barCount > 0 {
            startTime = result.startTime
            endTime = result.endTime
        }
    }
}
