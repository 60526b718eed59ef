/// Evaluates one parameter set on the bars `range` (indices into the full series) and returns
/// its report. Called concurrently from several threads; throwing marks the set as failed
/// (e.g. an invalid combination such as fast ≥ slow).
public typealias BacktestEvaluator = @Sendable (_ parameters: [String: Double], _ range: Range<Int>) throws -> BacktestReport

/// One evaluated parameter set.
public struct OptimizationRun: Sendable {
    /// Position in the candidate list (the tie-break: earlier wins).
    public var index: Int
    /// The parameter set.
    public var parameters: [String: Double]
    /// The report without trades and equity curve; `nil` when the evaluation failed.
    public var report: BacktestReport?
    /// The ranking metric's value; `nil` when undefined for this run or the run failed.
    public var score: Double?
    /// Why the evaluation failed, if it did.
    public var error: String?
}

/// The outcome of a grid or random search.
public struct OptimizationResult: Sendable {
    /// The metric ranked by (a `BacktestReport.metricNames` entry).
    public var metric: String
    /// Whether lower values of `metric` rank first.
    public var lowerIsBetter: Bool
    /// Successful runs, best first (runs with an undefined score last, then candidate order).
    public var ranked: [OptimizationRun]
    /// Runs that failed, in candidate order.
    public var failed: [OptimizationRun]
    /// The best run.
    public var best: OptimizationRun { ranked[0] }
}

/// Parameter search: grid or random, ranked by any report metric, in parallel; Bayesian (TPE) in
/// `Optimizer+Bayesian.swift`, walk-forward in `Optimizer+WalkForward.swift`.
public enum Optimizer {
    /// Evaluates every candidate on `range` and ranks them by `metric`.
    /// - Throws: `BacktestReport.UnknownMetric`, `OptimizationError` (cancelled, all failed,
    ///   no candidates).
    public static func optimize(
        candidates: [[String: Double]], range: Range<Int>, metric: String,
        options: OptimizationOptions = OptimizationOptions(),
        evaluate: @escaping BacktestEvaluator
    ) throws -> OptimizationResult {
        try BacktestReport.validateMetric(metric)
        let runner = ParallelRunner(options: options, totalJobs: candidates.count)
        return try optimize(
            candidates: candidates, range: range, metric: metric, runner: runner,
            evaluate: evaluate)
    }

    static func optimize(
        candidates: [[String: Double]], range: Range<Int>, metric: String,
        runner: ParallelRunner,
        evaluate: @escaping BacktestEvaluator
    ) throws -> OptimizationResult {
        guard !candidates.isEmpty else { throw OptimizationError.noCandidates }
        let runs = try runner.map(candidates.count) { i in
            evaluateOne(
                index: i, parameters: candidates[i], range: range, metric: metric,
                evaluate: evaluate)
        }
        return try result(runs, metric: metric)
    }

    /// The ranking of evaluated runs (in candidate order).
    /// - Throws: `OptimizationError.allFailed` when no run succeeded.
    static func result(_ runs: [OptimizationRun], metric: String) throws -> OptimizationResult {
        let lower = BacktestReport.lowerIsBetter.contains(metric)
        let ok = runs.filter { $0.report != nil }
        let failed = runs.filter { $0.report == nil }
        guard !ok.isEmpty else {
            throw OptimizationError.allFailed(firstError: failed.first?.error ?? "unknown")
        }
        return OptimizationResult(
            metric: metric, lowerIsBetter: lower,
            ranked: rank(ok, lowerIsBetter: lower), failed: failed)
    }

    /// Runs one candidate, turning a thrown error into a failed run.
    static func evaluateOne(
        index: Int, parameters: [String: Double], range: Range<Int>,
        metric: String, evaluate: BacktestEvaluator
    ) -> OptimizationRun {
        do {
            let report = try evaluate(parameters, range)
            let score = try report.metric(named: metric)
            return OptimizationRun(
                index: index, parameters: parameters, report: report.summary,
                score: score.flatMap { $0.isFinite ? $0 : nil }, error: nil)
        } catch {
            return OptimizationRun(
                index: index, parameters: parameters, report: nil, score: nil,
                error: String(describing: error))
        }
    }

    /// Best first: by score (higher first, or lower first when `lowerIsBetter`), runs with no
    /// score last, ties in candidate order. A total order, so the result never depends on
    /// which thread finished first.
    public static func rank(_ runs: [OptimizationRun], lowerIsBetter: Bool) -> [OptimizationRun] {
        runs.sorted { a, b in
            switch (a.score, b.score) {
            case let (x?, y?):
                if x != y { return lowerIsBetter ? x < y : x > y }
                return a.index < b.index
            case (.some, .none): return true
            case (.none, .some): return false
            case (.none, .none): return a.index < b.index
            }
        }
    }
}
