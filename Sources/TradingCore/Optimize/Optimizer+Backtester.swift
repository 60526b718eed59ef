/// Wiring the optimiser to the backtester.
extension Optimizer {
    /// An evaluator that backtests the registered strategy `strategyName` on
    /// `series.slice(range)` with `config`, merging `fixed` parameters under the searched ones.
    /// Parameter validation errors (unknown name, out of range, fast ≥ slow) fail that set only.
    /// Each window's slice is copied once and shared by every set evaluated on it.
    public static func backtestEvaluator(
        series: BarSeries, strategyName: String,
        fixed: [String: Double] = [:],
        config: BacktestConfig
    ) -> BacktestEvaluator {
        let slices = SliceCache(series)
        return { parameters, range in
            let merged = fixed.merging(parameters) { _, searched in searched }
            let result = try Backtester.run(
                series: slices[range], strategyName: strategyName,
                parameters: merged, config: config)
            return BacktestReport(result)
        }
    }
}
