/// The bar windows of one walk-forward fold.
public struct WalkForwardWindow: Sendable, Equatable {
    /// Fold number, from 0.
    public var index: Int
    /// Bars the parameters are optimised on.
    public var inSample: Range<Int>
    /// The bars right after `inSample`, on which the chosen set is then tested.
    public var outOfSample: Range<Int>
}

/// One walk-forward fold: the set chosen in-sample and how it did on both windows.
public struct WalkForwardFold: Sendable {
    /// The fold's windows.
    public var window: WalkForwardWindow
    /// The in-sample winner.
    public var parameters: [String: Double]
    /// Its in-sample report (summary, no trades).
    public var inSample: BacktestReport
    /// Its out-of-sample report (summary, no trades); `nil` when the out-of-sample run failed.
    public var outOfSample: BacktestReport?
    /// The metric in-sample.
    public var inSampleScore: Double?
    /// The metric out-of-sample.
    public var outOfSampleScore: Double?
    /// Why the out-of-sample run failed, if it did.
    public var outOfSampleError: String?
}

/// A parameter set that won at least one fold, scored on every fold's out-of-sample window.
public struct WalkForwardCandidate: Sendable {
    /// The parameter set.
    public var parameters: [String: Double]
    /// Folds it won in-sample.
    public var foldsWon: [Int]
    /// Its metric on each fold's out-of-sample window (`nil` where undefined or failed).
    public var outOfSampleScores: [Double?]
    /// Mean of the defined `outOfSampleScores`; the ranking key.
    public var meanOutOfSample: Double?
    /// Mean of its in-sample scores in the folds it won.
    public var meanInSample: Double?
}

/// The outcome of a walk-forward optimisation.
public struct WalkForwardResult: Sendable {
    /// The metric optimised and ranked by.
    public var metric: String
    /// Whether lower values of `metric` rank first.
    public var lowerIsBetter: Bool
    /// The folds in time order, in-sample and out-of-sample side by side.
    public var folds: [WalkForwardFold]
    /// Fold winners ranked by mean out-of-sample score, best first.
    public var ranking: [WalkForwardCandidate]
    /// Parameter sets searched in each fold.
    public var candidatesPerFold: Int
}

extension Optimizer {
    /// Rolling folds over `barCount` bars: the bars are cut into `folds + inSampleBlocks` equal
    /// consecutive blocks (the remainder goes to the last block); fold `k` optimises on blocks
    /// `k ..< k + inSampleBlocks` and tests on block `k + inSampleBlocks`. So in-sample windows
    /// are `inSampleBlocks` times as long as out-of-sample ones, windows roll forward by one
    /// block, and the out-of-sample windows tile the end of the data without overlap.
    /// Example: 1000 bars, 4 folds, 3 in-sample blocks → 7 blocks of 142 (the last 148);
    /// fold 0: in 0..<426, out 426..<568; fold 3: in 426..<852, out 852..<1000.
    /// - Throws: `OptimizationError.badFolds` when `folds < 1`, `inSampleBlocks < 1` or a block
    ///   would have fewer than `minimumBlockBars` bars.
    public static func walkForwardWindows(
        barCount: Int, folds: Int, inSampleBlocks: Int = 3,
        minimumBlockBars: Int = 2
    ) throws -> [WalkForwardWindow] {
        guard folds >= 1 else { throw OptimizationError.badFolds("need at least 1 fold") }
        guard inSampleBlocks >= 1 else {
            throw OptimizationError.badFolds("need at least 1 in-sample block")
        }
        let blocks = folds + inSampleBlocks
        let size = barCount / blocks
        guard size >= max(1, minimumBlockBars) else {
            throw OptimizationError.badFolds(
                "\(barCount) bars are too few for \(folds) folds (\(blocks) blocks of at least \(max(1, minimumBlockBars)) bars)")
        }
        return (0..<folds).map { k in
            let oosStart = (k + inSampleBlocks) * size
            let oosEnd = k == folds - 1 ? barCount : oosStart + size
            return WalkForwardWindow(
                index: k, inSample: (k * size)..<oosStart,
                outOfSample: oosStart..<oosEnd)
        }
    }

    /// Walk-forward optimisation: for each window, optimise the candidates in-sample, then run
    /// the in-sample winner on the out-of-sample window. Every fold winner is also run on every
    /// other fold's out-of-sample window, and the winners are ranked by their mean out-of-sample
    /// score: the final ranking rewards what held up on unseen data, not what fitted best.
    /// Each window is backtested on its own bars only, so indicators warm up inside it.
    /// - Throws: `BacktestReport.UnknownMetric`, `OptimizationError`.
    public static func walkForward(
        candidates: [[String: Double]], windows: [WalkForwardWindow],
        metric: String, options: OptimizationOptions = OptimizationOptions(),
        evaluate: @escaping BacktestEvaluator
    ) throws -> WalkForwardResult {
        try BacktestReport.validateMetric(metric)
        guard !candidates.isEmpty else { throw OptimizationError.noCandidates }
        let k = windows.count
        // In-sample searches, then the K × K out-of-sample grid of winners.
        let runner = ParallelRunner(options: options, totalJobs: k * candidates.count + k * k)
        return try walkForward(
            windows: windows, metric: metric, candidatesPerFold: candidates.count, runner: runner,
            evaluate: evaluate
        ) { window in
            try optimize(candidates: candidates, range: window, metric: metric, runner: runner, evaluate: evaluate)
        }
    }

    /// The walk-forward procedure around any in-sample search (`search(inSampleRange)`).
    static func walkForward(
        windows: [WalkForwardWindow], metric: String, candidatesPerFold: Int, runner: ParallelRunner,
        evaluate: @escaping BacktestEvaluator, search: (Range<Int>) throws -> OptimizationResult
    ) throws -> WalkForwardResult {
        guard !windows.isEmpty else { throw OptimizationError.badFolds("no folds") }
        let lower = BacktestReport.lowerIsBetter.contains(metric)
        let k = windows.count
        var winners = [[String: Double]]()
        var inSampleRuns = [OptimizationRun]()
        for w in windows {
            let result = try search(w.inSample)
            winners.append(result.best.parameters)
            inSampleRuns.append(result.best)
        }
        let chosen = winners
        let oos = try runner.map(k * k) { job in
            let (winner, window) = (job / k, job % k)
            return evaluateOne(
                index: job, parameters: chosen[winner],
                range: windows[window].outOfSample, metric: metric, evaluate: evaluate)
        }
        let folds = windows.map { w in
            let run = oos[w.index * k + w.index]
            return WalkForwardFold(
                window: w, parameters: winners[w.index],
                inSample: inSampleRuns[w.index].report!,
                outOfSample: run.report, inSampleScore: inSampleRuns[w.index].score,
                outOfSampleScore: run.score, outOfSampleError: run.error)
        }
        // Distinct winners in the order first chosen.
        var candidatesOut = [WalkForwardCandidate]()
        for f in 0..<k {
            if let j = candidatesOut.firstIndex(where: { $0.parameters == winners[f] }) {
                candidatesOut[j].foldsWon.append(f)
                continue
            }
            let scores = (0..<k).map { oos[f * k + $0].score }
            candidatesOut.append(
                WalkForwardCandidate(
                    parameters: winners[f], foldsWon: [f],
                    outOfSampleScores: scores,
                    meanOutOfSample: mean(scores), meanInSample: nil))
        }
        for j in candidatesOut.indices {
            candidatesOut[j].meanInSample = mean(candidatesOut[j].foldsWon.map { inSampleRuns[$0].score })
        }
        // Rank with the same total order as a search (index = order first chosen).
        let asRuns = candidatesOut.enumerated().map {
            OptimizationRun(
                index: $0.offset, parameters: $0.element.parameters, report: nil,
                score: $0.element.meanOutOfSample, error: nil)
        }
        let ranking = rank(asRuns, lowerIsBetter: lower).map { candidatesOut[$0.index] }
        return WalkForwardResult(
            metric: metric, lowerIsBetter: lower, folds: folds,
            ranking: ranking, candidatesPerFold: candidatesPerFold)
    }

    static func mean(_ xs: [Double?]) -> Double? {
        let defined = xs.compactMap { $0 }
        guard !defined.isEmpty else { return nil }
        return defined.reduce(0, +) / Double(defined.count)
    }
}
