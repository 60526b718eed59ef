/// Bayesian search (TPE) wired to the evaluator and the ranking.
extension Optimizer {
    /// A Bayesian search: `trials` parameter sets proposed by `TPESearch` seeded with `seed`, each
    /// batch evaluated in parallel on `range`, ranked by `metric` like a grid search (index =
    /// trial order). `fixed` values are added to every set. The same seed gives the same trials
    /// and the same ranking whatever `options.threads` is.
    /// - Throws: `BacktestReport.UnknownMetric`, `TPESearch.Error`, `OptimizationError`.
    public static func bayesian(
        ranges: [ParameterRange], trials: Int, seed: UInt64, fixed: [String: Double] = [:],
        range: Range<Int>, metric: String, options: OptimizationOptions = OptimizationOptions(),
        evaluate: @escaping BacktestEvaluator
    ) throws -> OptimizationResult {
        try BacktestReport.validateMetric(metric)
        let runner = ParallelRunner(options: options, totalJobs: trials)
        return try bayesian(
            BayesianSpec(ranges: ranges, trials: trials, seed: seed, fixed: fixed), range: range, metric: metric,
            runner: runner, evaluate: evaluate)
    }

    /// The search part of a Bayesian optimisation.
    struct BayesianSpec: Sendable {
        var ranges: [ParameterRange]
        var trials: Int
        var seed: UInt64
        var fixed: [String: Double]
    }

    static func bayesian(
        _ spec: BayesianSpec, range: Range<Int>, metric: String, runner: ParallelRunner,
        evaluate: @escaping BacktestEvaluator
    ) throws -> OptimizationResult {
        var search = try TPESearch(
            ranges: spec.ranges, trials: spec.trials, seed: spec.seed,
            lowerIsBetter: BacktestReport.lowerIsBetter.contains(metric))
        var runs: [OptimizationRun] = []
        while let batch = search.nextBatch() {
            let base = runs.count
            let sets = batch.map { spec.fixed.merging($0) { _, searched in searched } }
            let done = try runner.map(sets.count) { i in
                evaluateOne(index: base + i, parameters: sets[i], range: range, metric: metric, evaluate: evaluate)
            }
            search.record(done.map(\.score))
            runs += done
        }
        guard !runs.isEmpty else { throw OptimizationError.noCandidates }
        return try result(runs, metric: metric)
    }

    /// Walk-forward optimisation (`walkForward(candidates:…)`) with a Bayesian search in each
    /// fold's in-sample window, every fold searching with the same seed.
    /// - Throws: `BacktestReport.UnknownMetric`, `TPESearch.Error`, `OptimizationError`.
    public static func walkForward(
        ranges: [ParameterRange], trials: Int, seed: UInt64, fixed: [String: Double] = [:],
        windows: [WalkForwardWindow], metric: String, options: OptimizationOptions = OptimizationOptions(),
        evaluate: @escaping BacktestEvaluator
    ) throws -> WalkForwardResult {
        try BacktestReport.validateMetric(metric)
        let spec = BayesianSpec(ranges: ranges, trials: trials, seed: seed, fixed: fixed)
        let k = windows.count
        let runner = ParallelRunner(options: options, totalJobs: k * trials + k * k)
        return try walkForward(
            windows: windows, metric: metric, candidatesPerFold: trials, runner: runner, evaluate: evaluate
        ) { window in
            try bayesian(spec, range: window, metric: metric, runner: runner, evaluate: evaluate)
        }
    }
}
