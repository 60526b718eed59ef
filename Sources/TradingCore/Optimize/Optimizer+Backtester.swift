/// Wiring the optimiser to the backtester.
extension Optimizer {
    /// An evaluator that backtests the registered strategy `strategyName` on
    /// `series.slice(range)` with `config`, merging `fixed` parameters under the searched ones.
    /// Parameter validation errors (unknown name, out of range, fast ≥ slow) fail that set only.
    public static func backtestEvaluator(series: BarSeries, strategyName: String,
                                         fixed: [String: Double] = [:],
                                         config: BacktestConfig) -> BacktestEvaluator {
        { parameters, range in
            let merged = fixed.merging(parameters) { _, searched in searched }
            let slice = range == 0..<series.count ? series : series.slice(range)
            let result = try Backtester.run(series: slice, strategyName: strategyName,
                                            parameters: merged, config: config)
            return BacktestReport(result)
        }
    }
}
